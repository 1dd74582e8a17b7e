"""The `sendwell` command line: formatting only, over the services."""
