"""`python -m kepkreator COMMAND ...`: the same command line as the installed `kepkreator`."""
from kepkreator.cli import main

main()
