/* Negative fixture: needs a symbol nothing defines, so dlopen with RTLD_NOW fails. */
extern int prune_fixture_missing_symbol(void);
int prune_fixture_uses_missing(void) { return prune_fixture_missing_symbol(); }
