# The repo's own pytest set-up: pytester drives the plugin tests in tests/test_plugin.py.
pytest_plugins = ["pytester"]
