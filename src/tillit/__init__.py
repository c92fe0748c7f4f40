"""Tillit: an open platform for evidence-based, trust-based governance of public services.

Package map (imports point down only; enforced by import-linter, see pyproject.toml)::

    cli | web      thin fronts: click commands, FastAPI app (pages + /api/v1)
    services       use cases with their own transactions and role checks
    store | sources  SQLAlchemy Core tables/migrations/repositories | Kolada client, importers
    domain         typed records and rules shared by the layers above
    core           pure numpy/scipy/pandas statistics; imports nothing else from tillit
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
