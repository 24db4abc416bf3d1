"""Simulation: example networks, simulated stations and drivers, for demos, tests and load."""
