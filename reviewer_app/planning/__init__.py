"""Pure planners, like ``scoring/``: plain Python in, plain Python out, no Flask, no database.
``assignment``: which expert reviews which proposal."""
