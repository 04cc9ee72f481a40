"""Dagster definitions of the warehouse (``dagster dev -m de06.defs``)."""

from de06.defs.definitions import defs

__all__ = ["defs"]
