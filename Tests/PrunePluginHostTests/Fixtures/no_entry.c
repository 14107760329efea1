/* Negative fixture: a shared library that exports no prune_plugin_entry. */
int prune_fixture_something_else(void) { return 42; }
