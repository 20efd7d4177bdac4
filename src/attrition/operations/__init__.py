"""Launching and supervising processes: ``attrition up`` and ``ui``, API replicas behind a
local nginx (``attrition cluster``), maintenance and the quickstart.

Every child process is started, supervised and stopped by :mod:`attrition.operations.processes`.
"""
