/*
 * CPrunePlugin is header-only; SwiftPM needs one source file per C target, so this one holds compile-time
 * checks of the ABI 1.0 layout (LP64). If one of these fails, a change broke the ABI: see Docs/Plugins.md.
 */
#include "prune_plugin.h"

#if UINTPTR_MAX == 0xffffffffffffffffu
_Static_assert(sizeof(prune_tensor_view) == 40, "prune_tensor_view is frozen");
_Static_assert(sizeof(prune_slice) == 32, "prune_slice is frozen");
_Static_assert(sizeof(prune_target) == 96, "prune_target 1.0 layout");
_Static_assert(sizeof(prune_plugin_descriptor) == 112, "prune_plugin_descriptor 1.0 layout");
_Static_assert(offsetof(prune_plugin_descriptor, abi_major) == 4, "the first eight bytes never move");
_Static_assert(offsetof(prune_plugin_descriptor, abi_minor) == 6, "the first eight bytes never move");
_Static_assert(sizeof(prune_component) == 80, "prune_component 1.0 layout");
_Static_assert(offsetof(prune_host_api, tensor_output) == 104, "prune_host_api 1.0 layout");
#endif
