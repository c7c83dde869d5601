/* libFuzzer target for the configuration parser: the input is a whole config file image.
 *
 * core_conf_parse must accept or refuse any bytes without crashing, leaking or reading past
 * the input, and an error must name a line. What it accepts, core_conf_write turns back into
 * the dialect (`show running-config`); that text must parse again and write the very same
 * text, so the written form is a fixed point and an operator can always load what `show`
 * printed. Any broken promise aborts, so the fuzzer keeps the input as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* core_conf_parse refuses files above 1 MiB anyway; the fuzzer stays well below */
#define FUZZ_CONF_MAX (64u * 1024)

/* three of these are about 190 KiB each: static, not on the stack */
static struct core_conf fuzz_c1, fuzz_c2;

static void fuzz_assert(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz/conf: broken promise: %s\n", what);
		abort();
	}
}

/* core_conf_write into a malloc'd buffer (caller frees); *len gets its length */
static char *fuzz_write(const struct core_conf *c, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	fuzz_assert(f != NULL, "open_memstream");
	core_conf_write(c, f);
	fuzz_assert(fclose(f) == 0 && text != NULL, "memstream close");
	return text;
}

/* an error message is "NAME:LINE: what" and fits the buffer */
static void fuzz_check_err(const char *err, size_t cap, const char *name)
{
	size_t n = strlen(name);

	fuzz_assert(strnlen(err, cap) < cap, "error message not terminated");
	fuzz_assert(strncmp(err, name, n) == 0 && err[n] == ':', "error message names no file");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], err2[256];
	size_t len1 = 0, len2 = 0;
	char *text1, *text2;

	if (size > FUZZ_CONF_MAX)
		return 0;
	if (core_conf_parse(&fuzz_c1, "fuzz.cfg", (const char *)data, size, err, sizeof(err)) < 0) {
		fuzz_check_err(err, sizeof(err), "fuzz.cfg");
		core_conf_free(&fuzz_c1);
		return 0;
	}
	text1 = fuzz_write(&fuzz_c1, &len1);
	if (core_conf_parse(&fuzz_c2, "written.cfg", text1, len1, err2, sizeof(err2)) < 0) {
		fprintf(stderr, "fuzz/conf: written text:\n%.*s\nrefused: %s\n", (int)len1, text1,
		        err2);
		fuzz_assert(false, "the written configuration does not parse again");
	}
	text2 = fuzz_write(&fuzz_c2, &len2);
	if (len1 != len2 || memcmp(text1, text2, len1) != 0) {
		fprintf(stderr, "fuzz/conf: first write:\n%.*s\nsecond write:\n%.*s\n", (int)len1,
		        text1, (int)len2, text2);
		fuzz_assert(false, "the written configuration is not a fixed point");
	}
	fuzz_assert(fuzz_c1.ntp == fuzz_c2.ntp && fuzz_c1.nprofiles == fuzz_c2.nprofiles &&
	                fuzz_c1.ntenants == fuzz_c2.ntenants && fuzz_c1.npeers == fuzz_c2.npeers &&
	                fuzz_c1.nciphers == fuzz_c2.nciphers,
	            "the round trip changed a block count");
	free(text1);
	free(text2);
	core_conf_free(&fuzz_c1);
	core_conf_free(&fuzz_c2);
	return 0;
}
