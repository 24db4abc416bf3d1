"""The registry layer: national access point, open data, Open Charge Map import and export.

Open data (``open_data.py``, HTTP in ``api/open_data.py``) publishes ``publish: true``
Locations to anyone; ``ocm.py`` imports Open Charge Map POIs. This package must never publish
a token, a session, a CDR or a credential.
"""
