"""``python -m attrition``: the command line, as the ``attrition`` console script runs it.

Supervisors start their children this way (see ``attrition.operations.processes``), so a
child runs in the same environment whether or not the console script is on PATH.
"""

from attrition.cli import main

if __name__ == "__main__":
    main()
