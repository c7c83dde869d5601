/* aarch64-qemu-exec: an LD_PRELOAD shim for AArch64 programs run by qemu-user (qemu-aarch64).
 *
 * qemu-user passes a guest's execve() straight to the host kernel. Without a binfmt_misc entry
 * for AArch64 (which needs privileges and is global to the kernel) the kernel cannot start an
 * AArch64 binary, so a guest that re-executes itself fails with ENOEXEC. Criterion does exactly
 * that: BoxFort forks and execl()s the binary /proc/self/exe names as "boxfort-worker" to run
 * each test. This shim wraps the exec calls a test can make; when the target is an AArch64 ELF
 * file it executes
 *   $SIPTLS_QEMU -0 argv[0] -E LD_PRELOAD=... -E LD_LIBRARY_PATH=... path argv[1..]
 * instead, which the kernel can start (the pid stays the same, as Criterion needs). Host
 * (x86-64) programs such as /usr/bin/openssl are executed as they are; the guest's LD_PRELOAD
 * and LD_LIBRARY_PATH, which only make sense to the AArch64 loader, are taken out of the
 * environment at start-up (qx_init) and handed to each AArch64 child with -E.
 *
 * Build (scripts/cross-arm64.sh does it):
 *   aarch64-linux-gnu-gcc -O2 -shared -fPIC -o siptls-qemu-exec.so aarch64-qemu-exec.c -ldl
 * Used through the toolchain's CMAKE_CROSSCOMPILING_EMULATOR; never linked into siptlsd.
 * Not wrapped: system(), popen() and posix_spawn() (glibc calls its internal execve there):
 * they work for host programs, not for an AArch64 target. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QX_MAX_ARGS 4096

extern char **environ;

typedef int qx_execve_fn(const char *path, char *const argv[], char *const envp[]);

static int qx_real_execve(const char *path, char *const argv[], char *const envp[])
{
	static qx_execve_fn *real;
	if (real == NULL)
		real = (qx_execve_fn *)dlsym(RTLD_NEXT, "execve");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	return real(path, argv, envp);
}

/* true when path is an ELF file for EM_AARCH64 (e_machine sits at the same offset in the
 * 32- and 64-bit headers; AArch64 is little-endian, as is the x86-64 host) */
static bool qx_is_aarch64(const char *path)
{
	unsigned char h[EI_NIDENT + 4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, h, sizeof(h));
	close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h, ELFMAG, SELFMAG) != 0)
		return false;
	return (h[EI_NIDENT + 2] | h[EI_NIDENT + 3] << 8) == EM_AARCH64;
}

/* "LD_PRELOAD=..." and "LD_LIBRARY_PATH=..." as qemu-aarch64 -E gave them to this process */
static char *qx_guest_env[2];

/* Runs before main: keeps the two variables for the AArch64 children and removes them from
 * the environment, so that host programs started any way at all (system(), popen(), exec)
 * do not see them: the host's ld.so would complain that it cannot preload an AArch64 library.
 * The AArch64 loader read both at start-up already; removing them changes nothing for us. */
__attribute__((constructor)) static void qx_init(void)
{
	static const char *const names[2] = {"LD_PRELOAD", "LD_LIBRARY_PATH"};
	for (int i = 0; i < 2; i++) {
		const char *v = getenv(names[i]);
		if (v == NULL)
			continue;
		size_t n = strlen(names[i]) + 1 + strlen(v) + 1;
		qx_guest_env[i] = malloc(n);
		if (qx_guest_env[i] != NULL)
			snprintf(qx_guest_env[i], n, "%s=%s", names[i], v);
		unsetenv(names[i]);
	}
}

static int qx_execve(const char *path, char *const argv[], char *const envp[])
{
	static char *args[QX_MAX_ARGS];
	if (!qx_is_aarch64(path))
		return qx_real_execve(path, argv, envp);

	const char *qemu = getenv("SIPTLS_QEMU");
	size_t n = 0;
	args[n++] = (char *)(qemu != NULL ? qemu : "/usr/bin/qemu-aarch64");
	if (argv != NULL && argv[0] != NULL) {
		args[n++] = "-0";
		args[n++] = argv[0];
	}
	for (int i = 0; i < 2; i++) {
		if (qx_guest_env[i] != NULL) {
			args[n++] = "-E";
			args[n++] = qx_guest_env[i];
		}
	}
	args[n++] = (char *)path;
	for (size_t i = 1; argv != NULL && argv[0] != NULL && argv[i] != NULL; i++) {
		if (n + 1 >= QX_MAX_ARGS) {
			errno = E2BIG;
			return -1;
		}
		args[n++] = argv[i];
	}
	args[n] = NULL;
	return qx_real_execve(args[0], args, envp);
}

/* execvp's PATH search (a name with a slash is used as it is) */
static int qx_execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (file[0] == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (strchr(file, '/') != NULL)
		return qx_execve(file, argv, envp);
	const char *path = getenv("PATH");
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	char buf[PATH_MAX];
	int saved = ENOENT;
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		int len = (int)(end - p);
		if (snprintf(buf, sizeof(buf), "%.*s%s%s", len, p, len ? "/" : "", file) <
		    (int)sizeof(buf)) {
			qx_execve(buf, argv, envp);
			if (errno != ENOENT && errno != ENOTDIR)
				saved = errno;
		}
		if (*end == '\0')
			break;
		p = end;
	}
	errno = saved;
	return -1;
}

/* the exported wrappers: the names and contracts of exec(3) */
int execve(const char *path, char *const argv[], char *const envp[])
{
	return qx_execve(path, argv, envp);
}

int execv(const char *path, char *const argv[])
{
	return qx_execve(path, argv, environ);
}

int execvp(const char *file, char *const argv[])
{
	return qx_execvpe(file, argv, environ);
}

int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return qx_execvpe(file, argv, envp);
}

/* execl(path, arg0, ..., NULL): collect the list, then execv */
int execl(const char *path, const char *arg, ...)
{
	static char *argv[QX_MAX_ARGS];
	size_t n = 0;
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a != NULL; a = va_arg(ap, const char *)) {
		if (n + 1 >= QX_MAX_ARGS) {
			va_end(ap);
			errno = E2BIG;
			return -1;
		}
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	return qx_execve(path, argv, environ);
}

int execlp(const char *file, const char *arg, ...)
{
	static char *argv[QX_MAX_ARGS];
	size_t n = 0;
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a != NULL; a = va_arg(ap, const char *)) {
		if (n + 1 >= QX_MAX_ARGS) {
			va_end(ap);
			errno = E2BIG;
			return -1;
		}
		argv[n++] = (char *)a;
	}
	va_end(ap);
	argv[n] = NULL;
	return qx_execvpe(file, argv, environ);
}
