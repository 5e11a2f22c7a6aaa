"""The command line, ``rewardledger`` (Typer): commands in ``main``, rendering in ``output``."""
