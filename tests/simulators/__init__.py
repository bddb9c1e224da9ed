"""Local simulators of the outside services shop-logistics talks to (real sockets on loopback)."""
