"""The compiled C core (edgeinfer._core, built by setup.py) and what loads it."""
