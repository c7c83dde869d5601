/* siptlsctl: asks a running siptlsd over its control socket (core/ctl.h, docs/operations.md).
 *
 * One command per run: the words are joined into one line, checked locally with ctl_parse (so a
 * typo is reported without a daemon), sent with "\n", and whatever the daemon answers is copied
 * to stdout until it closes. Exit: 0 answered, 1 an error ("% ..." first line, or a local
 * parse error), 2 the daemon could not be asked (usage, socket unreachable, no answer in time).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/ctl.h"
#include "core/pkictl.h"
#include "core/version.h"

static const char usage[] =
    "Usage: siptlsctl [--control PATH] [--timeout SECONDS] COMMAND WORDS...\n"
    "\n"
    "Sends one command to a running siptlsd over its control socket and prints the answer.\n"
    "Keywords may be shortened to any unique prefix, as on the router: sh sip conn tcp tls br\n"
    "\n"
    "Commands:\n"
    "  show sip-ua connections tcp tls brief      totals and the listen sockets\n"
    "  show sip-ua connections tcp tls detail     the same and every connection, by remote agent\n"
    "  show running-config                        the configuration in use, normalised\n"
    "  show stats                                 every counter\n"
    "  show crypto pki trustpoints                each trustpoint's CA and certificate\n"
    "  show crypto pki certificates               every certificate, validity, days left\n"
    "  clear sip-ua tcp tls connection id N       close connection N (close_notify first)\n"
    "  clear sip-ua tcp tls connection target ipv4:ADDR:PORT [id N]\n"
    "  clear sip-ua tcp tls connection target ipv6:[ADDR]:PORT [id N]\n"
    "                                             close the connections to that peer\n"
    "  reload                                     reload the configuration (as SIGHUP)\n"
    "  debug ccsip messages                       trace every SIP message, decrypted, to the\n"
    "                                             daemon's --trace-sip FILE or syslog\n"
    "  undebug all | no debug ccsip messages      stop tracing (the file is complete then)\n"
    "  help                                       the command list (answered locally)\n"
    "  pki crypto ...                             enrollment on this box's files, no daemon\n"
    "                                             (siptlsctl pki --help; docs/pki.md)\n"
    "Append '| json' (quote the '|' for the shell) or 'json' to a show for JSON.\n"
    "\n"
    "Options:\n"
    "      --control PATH     the daemon's control socket [" CTL_DEFAULT_PATH "]\n"
    "      --timeout SECONDS  give up when the daemon says nothing for this long; 0: wait\n"
    "                         forever [30]\n"
    "  -V, --version          version of siptlsctl and its libraries\n"
    "  -h, --help             this text\n"
    "\n"
    "Exit status: 0 the daemon answered; 1 the command was refused (a '%' error line, here or\n"
    "from the daemon); 2 the daemon could not be asked (bad usage, socket unreachable, timeout).\n";

enum { O_CONTROL = 256, O_TIMEOUT };

static const struct option longopts[] = {
    {"control", required_argument, NULL, O_CONTROL},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"version", no_argument, NULL, 'V'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* the words after the options, joined by single spaces; -1 when they do not fit */
static int join_words(char **w, int n, char *buf, size_t cap)
{
	size_t o = 0;

	for (int i = 0; i < n; i++) {
		size_t len = strlen(w[i]);
		if (o + (i > 0) + len + 1 >= cap) /* room for the "\n" too */
			return -1;
		if (i > 0)
			buf[o++] = ' ';
		memcpy(buf + o, w[i], len);
		o += len;
	}
	buf[o] = '\0';
	return (int)o;
}

/* a connected stream socket to path, or -1 with the reason printed */
static int dial(const char *path, unsigned timeout_s)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr,
		        "siptlsctl: control socket path too long (%zu bytes, at most %zu): %s\n",
		        strlen(path), sizeof(addr.sun_path) - 1, path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "siptlsctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int e = errno;
		fprintf(stderr, "siptlsctl: cannot reach the control socket %s: %s\n", path,
		        strerror(e));
		if (e == ENOENT || e == ECONNREFUSED)
			fprintf(stderr, "(is siptlsd running with --control %s?)\n", path);
		else if (e == EACCES)
			fprintf(stderr,
			        "(the socket is mode 0600: run as the user siptlsd runs as)\n");
		close(fd);
		return -1;
	}
	struct timeval tv = {.tv_sec = (time_t)timeout_s};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* sends the line; a daemon that closed early may still have answered, so failures here only
 * warn and the answer is read anyway */
static void send_line(int fd, const char *line, size_t n)
{
	size_t o = 0;

	while (o < n) {
		ssize_t w = send(fd, line + o, n - o, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		o += (size_t)w;
	}
	shutdown(fd, SHUT_WR); /* one request per connection: nothing more will come */
}

/* copies the answer to stdout; 0, 1 or 2 as the exit status */
static int copy_answer(int fd, unsigned timeout_s)
{
	char buf[16384];
	char head[2];
	size_t seen = 0;

	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			fflush(stdout);
			if (e == EAGAIN || e == EWOULDBLOCK)
				fprintf(stderr, "siptlsctl: no answer within %u s\n", timeout_s);
			else
				fprintf(stderr, "siptlsctl: reading the answer: %s\n", strerror(e));
			return 2;
		}
		if (r == 0)
			break;
		for (ssize_t i = 0; i < r && seen < sizeof(head); i++)
			head[seen++] = buf[i];
		if (fwrite(buf, 1, (size_t)r, stdout) != (size_t)r)
			return 2;
	}
	if (fflush(stdout) != 0)
		return 2;
	if (seen == 0) {
		fprintf(stderr, "siptlsctl: the daemon closed the connection without an answer\n");
		return 2;
	}
	return seen == 2 && head[0] == '%' && head[1] == ' ' ? 1 : 0;
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "siptlsctl: %s%s\n(siptlsctl --help lists the commands and options)\n", msg,
	        arg);
	return 2;
}

int main(int argc, char **argv)
{
	const char *path = CTL_DEFAULT_PATH;
	unsigned long timeout_s = 30;
	char line[CTL_LINE_MAX], err[CTL_ERR_MAX], *end;
	struct ctl_request req;
	int c, n, fd, rc;

	/* '+': stop at the first word, so nothing after the command is taken for an option */
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (c) {
		case O_CONTROL:
			path = optarg;
			break;
		case O_TIMEOUT:
			errno = 0;
			timeout_s = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || timeout_s > 86400)
				return usage_error(
				    "--timeout: not a number of seconds in 0..86400: ", optarg);
			break;
		case 'V':
			core_version_print(stdout, "siptlsctl");
			return 0;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return usage_error("unknown option", "");
		}
	}
	if (optind == argc)
		return usage_error("no command given", "");
	if (strcmp(argv[optind], "pki") == 0) /* offline, on files: core/pkictl.h */
		return core_pkictl_main(argc - optind, argv + optind);
	if ((n = join_words(argv + optind, argc - optind, line, sizeof(line))) < 0)
		return usage_error("command too long", "");
	if (ctl_parse(slice_make(line, (size_t)n), &req, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (req.cmd == CTL_HELP)
		return ctl_print_help(stdout) == 0 ? 0 : 2;
	if ((fd = dial(path, (unsigned)timeout_s)) < 0)
		return 2;
	line[n++] = '\n';
	send_line(fd, line, (size_t)n);
	rc = copy_answer(fd, (unsigned)timeout_s);
	close(fd);
	return rc;
}
