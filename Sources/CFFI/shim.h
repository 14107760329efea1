/*
 * libffi for Swift. Swift 6 rejects libffi's `ffi_type_*` globals as not concurrency-safe, so these accessors
 * hand out their addresses instead (see shared SWIFT-NOTES.md).
 */
#ifndef PRUNE_CFFI_SHIM_H
#define PRUNE_CFFI_SHIM_H

#include <ffi.h>

static inline ffi_type *prune_ffi_type_pointer(void) { return &ffi_type_pointer; }
static inline ffi_type *prune_ffi_type_double(void) { return &ffi_type_double; }
static inline ffi_type *prune_ffi_type_sint64(void) { return &ffi_type_sint64; }
static inline ffi_type *prune_ffi_type_sint32(void) { return &ffi_type_sint32; }
static inline ffi_abi prune_ffi_default_abi(void) { return FFI_DEFAULT_ABI; }

#endif
