#include "sip/eol.h"

/* The exported twins, so tests can hold each implementation to the others. */

const char *sip_eol_find_swar(const char *p, const char *end)
{
	return sip_eol__swar(p, end);
}

const char *sip_eol_find_simd(const char *p, const char *end)
{
	return sip_eol__simd(p, end);
}

const char *sip_eol_impl(void)
{
	return SIP_EOL_IMPL;
}
