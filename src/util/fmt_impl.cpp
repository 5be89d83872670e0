// fmt's implementation, compiled once for the whole binary (the build's mloop_fmt library).
//
// Debian ships fmt as a shared library and as headers only. Linking the shared one slows every
// start of mloop (its relocations: a quarter of `mloop --version` under ASan); the header-only
// form compiles fmt's implementation (format-inl.h: Dragonbox, the format-string parser) into
// every translation unit, a third of what each costs to build. This file is what fmt's own
// src/format.cc (9.1.0) is: the non-template functions that format.h declares, and the explicit
// instantiations that it declares extern.
#include <fmt/format-inl.h>

#ifdef FMT_HEADER_ONLY
#error "fmt_impl.cpp is for a build that does not use fmt's header-only form"
#endif

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API auto dragonbox::to_decimal(float x) noexcept -> dragonbox::decimal_fp<float>;
template FMT_API auto dragonbox::to_decimal(double x) noexcept -> dragonbox::decimal_fp<double>;

#ifndef FMT_STATIC_THOUSANDS_SEPARATOR
template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;
#endif

template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API void buffer<char>::append(const char*, const char*);
template FMT_API void vformat_to(buffer<char>&, string_view,
                                 basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);

template FMT_API auto thousands_sep_impl(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl(locale_ref) -> wchar_t;
template FMT_API void buffer<wchar_t>::append(const wchar_t*, const wchar_t*);

}  // namespace detail
FMT_END_NAMESPACE
