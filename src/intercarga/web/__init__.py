"""The HTTP edge: the FastAPI app, problem JSON, admin bearer auth, the admin API and the listener."""
