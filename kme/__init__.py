"""ETSI GS QKD 014 key delivery on a simulated qkdnet network (`qkdnet kme`).

certs    throwaway CA and per-KME / per-SAE certificates for mutual TLS
network  SAEs attached to nodes; the simulation's delivered keys moved into pair stores per step
store    one SAE pair's key: delivered blocks -> handed to the master -> handed to the slave
api      the spec's endpoints, status codes and JSON shapes, independent of sockets
server   one HTTPS (mutual TLS) port per KME
clock    real time / speed-up, or as fast as requests need
cli      the `qkdnet kme` command
"""
