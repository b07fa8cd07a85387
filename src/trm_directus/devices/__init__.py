"""Devices in the field: the command contract with the ingestion gateways and a reference gateway.

May be imported by commands/ (the `gateway-sim` CLI), bench code and tests; imports only the Redis
client (resp) and console.
"""
