"""BI access over SQL (issue 18): Spark's Thrift server with a view per silver and gold table.

- :mod:`c360.sql_endpoint.views`: snapshot folders of each table's live files, view DDL;
- :mod:`c360.sql_endpoint.server`: the server process (PySpark driver + HiveThriftServer2);
- :mod:`c360.sql_endpoint.control`: start / stop with a pid file (``c360 sql``).
"""
