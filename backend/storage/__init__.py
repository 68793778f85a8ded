"""Storage plug-ins behind one interface (``api.py``), chosen by name from config."""
