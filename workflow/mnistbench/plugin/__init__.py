"""The plugin API: what a backend is, the hooks, discovery, conformance tests and
the helpers backends share."""
