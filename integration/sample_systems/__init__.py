"""Small, real legacy systems for the demo and the tests, served on loopback.

- ``billing``: a SOAP billing service with a WSDL (balances, invoices, payment arrangements);
- ``orders``: a REST order-management service (orders, shipments, address changes) with API-key
  and OAuth2 client-credentials authentication, cursor pagination and a rate limit;
- ``customer_db``: a legacy SQL customer database (PostgreSQL or SQLite);
- ``seed``: their data, lined up with CEA's demo customers.

Each HTTP system has switches (``http.Switches``) for slow answers, errors, downtime and a rate
limit, flipped in-process (``testing.SampleSystems``) or over HTTP (``POST /_control``); the SQL
database on PostgreSQL has its own (``customer_db.CustomerDatabaseSwitches``: locked tables, down).
``python -m integration.sample_systems serve --port-base N`` runs them (see ``__main__``).

These modules never import Django: they stand in for systems outside the CEA.
"""
