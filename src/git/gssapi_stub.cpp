// With the static libgit2 (CMakeLists.txt, MLOOP_STATIC_DEPS), the GSS-API calls of its HTTP
// "Negotiate" authentication land here instead of in MIT Kerberos' shared libgssapi_krb5, which
// pulled seven shared libraries (krb5, k5crypto, com_err, keyutils, resolv, …) into the start of
// every mloop command: a third of `mloop --version` on a machine whose page faults are slow.
// mloop reads local repositories only and never authenticates to a remote; should libgit2 try,
// every call fails (GSS_S_FAILURE) and Negotiate is not offered, as on a machine without
// Kerberos. The signatures are MIT's, with its handle and OID types as the pointers they are.
#ifdef MLOOP_STUB_GSSAPI

#include <cstddef>
#include <cstdint>

namespace {

using OM_uint32 = uint32_t;
constexpr OM_uint32 k_failure = 13u << 16;  // GSS_S_FAILURE

struct Buffer {  // gss_buffer_desc
    size_t length;
    void* value;
};

OM_uint32 fail(OM_uint32* minor) {
    if (minor != nullptr) {
        *minor = 0;
    }
    return k_failure;
}

}  // namespace

extern "C" {

void* GSS_C_NT_HOSTBASED_SERVICE = nullptr;

OM_uint32 gss_indicate_mechs(OM_uint32* minor, void** mech_set) {
    if (mech_set != nullptr) {
        *mech_set = nullptr;
    }
    return fail(minor);
}

OM_uint32 gss_import_name(OM_uint32* minor, Buffer*, void*, void** output_name) {
    if (output_name != nullptr) {
        *output_name = nullptr;
    }
    return fail(minor);
}

OM_uint32 gss_init_sec_context(OM_uint32* minor, void*, void**, void*, void*, OM_uint32, OM_uint32,
                               void*, Buffer*, void**, Buffer* output_token, OM_uint32*,
                               OM_uint32*) {
    if (output_token != nullptr) {
        *output_token = {0, nullptr};
    }
    return fail(minor);
}

OM_uint32 gss_display_status(OM_uint32* minor, OM_uint32, int, void*, OM_uint32* message_context,
                             Buffer* status_string) {
    if (message_context != nullptr) {
        *message_context = 0;
    }
    if (status_string != nullptr) {
        *status_string = {0, nullptr};
    }
    return fail(minor);
}

OM_uint32 gss_delete_sec_context(OM_uint32* minor, void** context, Buffer* output_token) {
    if (context != nullptr) {
        *context = nullptr;
    }
    if (output_token != nullptr) {
        *output_token = {0, nullptr};
    }
    if (minor != nullptr) {
        *minor = 0;
    }
    return 0;
}

OM_uint32 gss_release_buffer(OM_uint32* minor, Buffer* buffer) {
    if (buffer != nullptr) {
        *buffer = {0, nullptr};
    }
    if (minor != nullptr) {
        *minor = 0;
    }
    return 0;
}

OM_uint32 gss_release_name(OM_uint32* minor, void** name) {
    if (name != nullptr) {
        *name = nullptr;
    }
    if (minor != nullptr) {
        *minor = 0;
    }
    return 0;
}

OM_uint32 gss_release_oid_set(OM_uint32* minor, void** set) {
    if (set != nullptr) {
        *set = nullptr;
    }
    if (minor != nullptr) {
        *minor = 0;
    }
    return 0;
}

}  // extern "C"

#endif  // MLOOP_STUB_GSSAPI
