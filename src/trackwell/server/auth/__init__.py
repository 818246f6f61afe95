"""Authentication and authorization: who is asking (``services.identity``), what they may do
(``policy``), and how routes and requests are held to it (``dependencies``, ``guards``)."""
