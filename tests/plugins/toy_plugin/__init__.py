"""A complete AffectLens plugin in four small parts, installed by the plugin test (tests/plugins/test_plugins.py):
an adapter, a dataset loader, a prompt strategy and a metric, each found through its entry point."""
