/*
 * awskeep: the front users and their ~/.aws/config run, on Linux.
 *
 * It answers a cached `awskeep credential-process --profile P` itself and runs the full
 * program, awskeep-full, installed next to it, in its place (execve, same process id,
 * arguments, environment, terminal and descriptors) for everything else. It is the Go
 * front of cmd/awskeep written in C: a cache hit is the common case of credential_process
 * (the AWS CLI and SDKs run it for every command), and on the machines awskeep measures
 * on, the start of any Go program (its runtime touches some 200 pages before main) costs
 * about twice a shell script printing static JSON. This program's start costs a fraction
 * of that. It links nothing but the C library, statically.
 *
 * What it agrees on with the full program is in package core/fastpath and in
 * core/cache/answer.go: it serializes the same inputs (fastpath.Inputs), names them the
 * same way (fastpath.Name), and prints the answer file the full program left under that
 * name only if the file is private, holds the digest of these inputs, and the cache entry
 * it was rendered from is still the same file with enough lifetime left. It never parses
 * JSON: the answer is the bytes the full program printed. When many invocations with the
 * same inputs miss at once, the first runs the full program holding the inputs' lock and
 * the others wait for it and answer from the cache it filled (fastpath.Turn, Handoff).
 *
 * Whatever this program cannot do exactly as the Go code would (a path it would have to
 * clean, a file it cannot read), it leaves to the full program: the only cost is speed.
 * The Go tests of package cfront compare its inputs, names and answers with the Go code's
 * on random inputs, and the end-to-end tests run it as `awskeep`.
 */
#define _GNU_SOURCE
#include "front.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* fastpath.FullProgram */
#define FULL_PROGRAM "awskeep-full"
/* fastpath.domain */
#define DOMAIN "awskeep route v1"
/* fastpath.maxConfigSize */
#define MAX_CONFIG ((size_t)1 << 20)
/* cache.maxEntrySize and maxAnswerSize */
#define MAX_ENTRY ((off_t)64 << 10)
#define MAX_ANSWER (MAX_ENTRY + 512)
/* fastpath.WaitLimit, in seconds */
#define WAIT_LIMIT 60
/* plugins/trust's bound on symbolic links followed */
#define MAX_SYMLINKS 40

const char *const front_env_names[] = {
	"AWS_CA_BUNDLE", "AWS_CONFIG_FILE", "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_PROFILE", "AWS_REGION", "HOME",
	"XDG_CACHE_HOME", NULL,
};

/* ---- buffers ---- */

static int buf_add(struct front_buf *b, const void *p, size_t n)
{
	if (n > SIZE_MAX / 2 - b->len)
		return -1;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *q = realloc(b->p, cap);
		if (!q)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

void front_buf_free(struct front_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* field appends one field as fastpath.Inputs does: its length, 8 bytes big-endian, then
 * its bytes. */
static int field(struct front_buf *b, const void *p, size_t n)
{
	unsigned char len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
	return buf_add(b, len, 8) || buf_add(b, p, n) ? -1 : 0;
}

static int field_str(struct front_buf *b, const char *s) { return field(b, s, strlen(s)); }

/* ---- paths ---- */

/* is_clean reports whether Go's filepath.Clean would return p unchanged, conservatively:
 * it refuses some clean paths (relative ones starting with ".."), never accepts an
 * unclean one. */
static int is_clean(const char *p)
{
	if (!*p)
		return 0;
	if (strcmp(p, "/") == 0)
		return 1;
	size_t n = strlen(p);
	if (p[n - 1] == '/')
		return 0;
	const char *s = p;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len == 0 && s != p)
			return 0; /* "//" */
		if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (!e)
			break;
		s = e + 1;
	}
	return 1;
}

static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);
	if (!s)
		return NULL;
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

/* clean_concat is filepath.Join(a, b) where the plain concatenation a+b is already clean;
 * NULL otherwise (the front then leaves the work to the full program). */
static char *clean_concat(const char *a, const char *b)
{
	char *s = concat(a, b);
	if (s && !is_clean(s)) {
		free(s);
		return NULL;
	}
	return s;
}

char *front_config_path(void)
{
	const char *home = getenv("HOME");
	const char *p = getenv("AWS_CONFIG_FILE");
	if (p && *p) {
		if (strcmp(p, "~") != 0 && strncmp(p, "~/", 2) != 0)
			return strdup(p);
		if (!home || !*home)
			return NULL;
		return clean_concat(home, p + 1);
	}
	if (!home || !*home)
		return NULL;
	return clean_concat(home, "/.aws/config");
}

char *front_cache_dir(void)
{
	const char *x = getenv("XDG_CACHE_HOME");
	if (x && x[0] == '/')
		return clean_concat(x, "/awskeep");
	const char *home = getenv("HOME");
	if (!home || !*home)
		return NULL;
	return clean_concat(home, "/.cache/awskeep");
}

/* ---- reading files ---- */

/* read_regular reads the whole regular file open on fd, of at most max bytes, into out;
 * st is its fstat. */
static int read_regular(int fd, const struct stat *st, off_t max, struct front_buf *out)
{
	if (!S_ISREG(st->st_mode) || st->st_size > max)
		return -1;
	size_t want = (size_t)st->st_size;
	size_t start = out->len;
	/* One byte more than the size, to notice a file that grew since fstat. */
	if (want + 1 > out->cap - out->len) {
		unsigned char *q = realloc(out->p, out->len + want + 1);
		if (!q)
			return -1;
		out->p = q;
		out->cap = out->len + want + 1;
	}
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, out->p + start + got, want + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == want + 1)
			break;
	}
	if (got != want)
		return -1;
	out->len += got;
	return 0;
}

/* ---- inputs (fastpath.Inputs) ---- */

int front_routable(int argc, char *const *args)
{
	if (argc < 2 || strcmp(args[0], "credential-process") != 0)
		return 0;
	if (argc == 3 && strcmp(args[1], "--profile") == 0)
		return args[2][0] != '\0' && args[2][0] != '-';
	if (argc == 2)
		return strncmp(args[1], "--profile=", 10) == 0 && args[1][10] != '\0';
	return 0;
}

int front_inputs(int argc, char *const *args, int full_fd, struct front_buf *out)
{
	char num[64];
	int rc = -1;
	char *path = NULL;
	struct front_buf config = {0};

	if (buf_add(out, DOMAIN, sizeof DOMAIN)) /* with its NUL, as "...v1\x00" */
		goto done;
	snprintf(num, sizeof num, "%d", argc);
	if (field_str(out, num))
		goto done;
	for (int i = 0; i < argc; i++)
		if (field_str(out, args[i]))
			goto done;
	for (const char *const *name = front_env_names; *name; name++) {
		const char *v = getenv(*name);
		if (v) {
			char *kv = malloc(strlen(*name) + strlen(v) + 2);
			if (!kv)
				goto done;
			sprintf(kv, "%s=%s", *name, v);
			int err = field_str(out, kv);
			free(kv);
			if (err)
				goto done;
		} else if (field_str(out, *name)) {
			goto done;
		}
	}
	path = front_config_path();
	if (!path)
		goto done;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto done;
	struct stat st;
	int err = fstat(fd, &st) || read_regular(fd, &st, (off_t)MAX_CONFIG, &config);
	close(fd);
	if (err)
		goto done;
	if (field_str(out, path) || field(out, config.p, config.len))
		goto done;
	snprintf(num, sizeof num, "%u", (unsigned)getuid());
	if (field_str(out, num))
		goto done;
	struct stat full;
	if (fstat(full_fd, &full))
		goto done;
	long long mtime_ns = (long long)full.st_mtim.tv_sec * 1000000000LL + full.st_mtim.tv_nsec;
	snprintf(num, sizeof num, "%llu:%llu:%lld:%lld", (unsigned long long)full.st_dev,
		 (unsigned long long)full.st_ino, (long long)full.st_size, mtime_ns);
	if (field_str(out, num))
		goto done;
	rc = 0;
done:
	free(path);
	front_buf_free(&config);
	return rc;
}

void front_name(const unsigned char *inputs, size_t len, char name[17])
{
	uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= inputs[i];
		h *= 1099511628211ULL;
	}
	snprintf(name, 17, "%016llx", (unsigned long long)h);
}

void front_digest(const unsigned char *inputs, size_t len, char digest[33])
{
	/* FNV-1a 128 (hash/fnv New128a): offset basis and prime of the FNV specification. */
	const unsigned __int128 prime = ((unsigned __int128)1 << 88) + 0x13b;
	unsigned __int128 h = ((unsigned __int128)0x6c62272e07bb0142ULL << 64) | 0x62b821756295c58dULL;
	for (size_t i = 0; i < len; i++) {
		h ^= inputs[i];
		h *= prime;
	}
	snprintf(digest, 33, "%016llx%016llx", (unsigned long long)(uint64_t)(h >> 64),
		 (unsigned long long)(uint64_t)h);
}

/* ---- answers (core/cache/answer.go) ---- */

/* decimal parses a non-negative decimal below 2^63 without sign or leading zeros, as
 * cache's decimal does. */
static int decimal(const char *s, size_t n, uint64_t *out)
{
	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v >= (uint64_t)1 << 63)
		return -1;
	*out = v;
	return 0;
}

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int front_parse_answer(const unsigned char *data, size_t len, struct front_answer_header *h,
		       size_t *body_off)
{
	const unsigned char *nl = memchr(data, '\n', len < 513 ? len : 513);
	if (!nl)
		return -1;
	size_t hlen = (size_t)(nl - data);
	const char *f[10];
	size_t fl[10];
	size_t nf = 0, start = 0;
	for (size_t i = 0; i <= hlen; i++) {
		if (i == hlen || data[i] == ' ') {
			if (nf == 10)
				return -1;
			f[nf] = (const char *)data + start;
			fl[nf++] = i - start;
			start = i + 1;
		}
	}
	if (nf != 10 || fl[0] != 14 || memcmp(f[0], "awskeep-answer", 14) != 0)
		return -1;
	if (fl[1] != 1 || f[1][0] != '1')
		return -1;
	uint64_t v[6];
	const int idx[6] = {2, 4, 5, 6, 7, 9};
	for (int i = 0; i < 6; i++)
		if (decimal(f[idx[i]], fl[idx[i]], &v[i]))
			return -1;
	if (fl[3] != 64 || !is_hex(f[3], 64) || fl[8] != 32 || !is_hex(f[8], 32))
		return -1;
	size_t body = len - hlen - 1;
	if (v[5] > (uint64_t)MAX_ENTRY || v[5] != body)
		return -1;
	h->not_after = (int64_t)v[0];
	memcpy(h->entry, f[3], 64);
	h->entry[64] = '\0';
	h->dev = v[1];
	h->ino = v[2];
	h->size = (int64_t)v[3];
	h->mtime_ns = (int64_t)v[4];
	memcpy(h->digest, f[8], 32);
	h->digest[32] = '\0';
	h->answer_len = (size_t)v[5];
	*body_off = hlen + 1;
	return 0;
}

/* private_to_user is cache's checkEntryFile without the size: a regular file owned by
 * the user, not accessible by group or others. */
static int private_to_user(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_uid == getuid() && (st->st_mode & 077) == 0;
}

int front_read_answer(const char *dir, const char *name, const unsigned char *inputs,
		      size_t inputs_len, struct front_buf *out, size_t *answer_off)
{
	char path[PATH_MAX];
	if (snprintf(path, sizeof path, "%s/%s.answer", dir, name) >= (int)sizeof path)
		return -1;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	int err = fstat(fd, &st) || !private_to_user(&st) || read_regular(fd, &st, MAX_ANSWER, out);
	close(fd);
	if (err)
		return -1;
	struct front_answer_header h;
	size_t body;
	if (front_parse_answer(out->p, out->len, &h, &body))
		return -1;
	char digest[33];
	front_digest(inputs, inputs_len, digest);
	if (strcmp(digest, h.digest) != 0)
		return -1;
	if ((int64_t)time(NULL) >= h.not_after)
		return -1;
	if (snprintf(path, sizeof path, "%s/%s.json", dir, h.entry) >= (int)sizeof path)
		return -1;
	struct stat e;
	if (lstat(path, &e) || !private_to_user(&e) || e.st_size > MAX_ENTRY)
		return -1;
	int64_t mtime_ns = (int64_t)e.st_mtim.tv_sec * 1000000000LL + e.st_mtim.tv_nsec;
	if ((uint64_t)e.st_dev != h.dev || (uint64_t)e.st_ino != h.ino || (int64_t)e.st_size != h.size ||
	    mtime_ns != h.mtime_ns)
		return -1;
	*answer_off = body;
	return 0;
}

/* ---- trusted files (plugins/trust) ---- */

static int owner_ok(const struct stat *st) { return st->st_uid == 0 || st->st_uid == getuid(); }

static int unsafe(char *err, size_t errlen, const char *path, int dir, const char *problem)
{
	snprintf(err, errlen, "%s%s %s", dir ? "directory " : "", path, problem);
	return -1;
}

static int check_dir(const char *path, const struct stat *st, char *err, size_t errlen)
{
	char problem[PATH_MAX + 128];
	if (!owner_ok(st)) {
		snprintf(problem, sizeof problem, "belongs to another user (uid %u)", (unsigned)st->st_uid);
		return unsafe(err, errlen, path, 1, problem);
	}
	if ((st->st_mode & 022) && !(st->st_mode & S_ISVTX)) {
		snprintf(problem, sizeof problem, "is writable by group or others (mode %04o); run chmod go-w %s",
			 (unsigned)(st->st_mode & 0777), path);
		return unsafe(err, errlen, path, 1, problem);
	}
	return 0;
}

static int check_file(const char *path, const struct stat *st, char *err, size_t errlen)
{
	char problem[PATH_MAX + 128];
	if (!S_ISREG(st->st_mode))
		return unsafe(err, errlen, path, 0, "is not a regular file");
	if (st->st_mode & 022) {
		snprintf(problem, sizeof problem, "is writable by group or others (mode %04o); run chmod go-w %s",
			 (unsigned)(st->st_mode & 0777), path);
		return unsafe(err, errlen, path, 0, problem);
	}
	if (!owner_ok(st)) {
		snprintf(problem, sizeof problem, "belongs to another user (uid %u)", (unsigned)st->st_uid);
		return unsafe(err, errlen, path, 0, problem);
	}
	return 0;
}

static int sys_error(char *err, size_t errlen, const char *op, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", op, path, strerror(errno));
	return -1;
}

/* resolve follows path component by component from the root, as trust's resolveTrusted
 * does, checking every directory it passes and following symbolic links (at most
 * MAX_SYMLINKS); resolved receives the path of the file. path is absolute. */
static int resolve(const char *path, char resolved[PATH_MAX], char *err, size_t errlen)
{
	struct stat st;
	if (lstat("/", &st))
		return sys_error(err, errlen, "lstat", "/");
	if (check_dir("/", &st, err, errlen))
		return -1;
	char *rest = strdup(path);
	if (!rest)
		return sys_error(err, errlen, "resolve", path);
	int links = 0, rc = -1;
	char *cur = rest;
	strcpy(resolved, "/");
	while (cur && *cur) {
		char *slash = strchr(cur, '/');
		if (slash)
			*slash = '\0';
		char *name = cur;
		cur = slash ? slash + 1 : NULL;
		if (!*name || strcmp(name, ".") == 0)
			continue;
		if (strcmp(name, "..") == 0) {
			char *last = strrchr(resolved, '/');
			if (last == resolved)
				resolved[1] = '\0';
			else if (last)
				*last = '\0';
			continue;
		}
		char next[PATH_MAX];
		if (snprintf(next, sizeof next, "%s%s%s", resolved, strcmp(resolved, "/") ? "/" : "", name) >=
		    (int)sizeof next) {
			errno = ENAMETOOLONG;
			sys_error(err, errlen, "resolve", path);
			goto done;
		}
		if (lstat(next, &st)) {
			sys_error(err, errlen, "lstat", next);
			goto done;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++links > MAX_SYMLINKS) {
				errno = ELOOP;
				sys_error(err, errlen, "resolve", path);
				goto done;
			}
			char target[PATH_MAX];
			ssize_t n = readlink(next, target, sizeof target - 1);
			if (n < 0) {
				sys_error(err, errlen, "readlink", next);
				goto done;
			}
			target[n] = '\0';
			if (target[0] == '/')
				strcpy(resolved, "/");
			char *joined = cur && *cur ? malloc((size_t)n + strlen(cur) + 2) : strdup(target);
			if (!joined) {
				sys_error(err, errlen, "resolve", path);
				goto done;
			}
			if (cur && *cur)
				sprintf(joined, "%s/%s", target, cur);
			free(rest);
			rest = cur = joined;
		} else if (S_ISDIR(st.st_mode)) {
			if (check_dir(next, &st, err, errlen))
				goto done;
			strcpy(resolved, next);
		} else {
			if (cur && *cur) {
				errno = ENOTDIR;
				sys_error(err, errlen, "resolve", next);
				goto done;
			}
			strcpy(resolved, next);
			cur = NULL;
		}
	}
	rc = 0;
done:
	free(rest);
	return rc;
}

int front_trust_open(const char *path, char *err, size_t errlen)
{
	char resolved[PATH_MAX];
	if (path[0] != '/') {
		errno = EINVAL;
		return sys_error(err, errlen, "resolve (not an absolute path)", path);
	}
	if (resolve(path, resolved, err, errlen))
		return -1;
	int fd = open(resolved, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return sys_error(err, errlen, "open", resolved);
	struct stat st;
	if (fstat(fd, &st)) {
		sys_error(err, errlen, "fstat", resolved);
		close(fd);
		return -1;
	}
	if (check_file(resolved, &st, err, errlen)) {
		close(fd);
		return -1;
	}
	return fd;
}

#ifndef AWSKEEP_FRONT_NO_MAIN

/* ---- the program ---- */

static void fail(const char *fmt, ...)
{
	char msg[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	dprintf(STDERR_FILENO, "awskeep: %s\n", msg);
	exit(1);
}

/* harden is core/harden.Process: no core file, and no reading this process's memory,
 * which may hold cached credentials. The hard core limit stays for the full program to
 * give children back. */
static void harden(void)
{
	struct rlimit lim;
	if (getrlimit(RLIMIT_CORE, &lim))
		fail("harden: read the core limit: %s", strerror(errno));
	lim.rlim_cur = 0;
	if (setrlimit(RLIMIT_CORE, &lim))
		fail("harden: set the core limit to 0: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		fail("harden: PR_SET_DUMPABLE: %s", strerror(errno));
}

static void exit_with(const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			fail("write credentials: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	exit(0);
}

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

/* wait_unlocked waits, at most WAIT_LIMIT seconds, until nobody holds the exclusive lock
 * at path (flock.WaitUnlocked: a shared lock taken and dropped, so every waiter wakes at
 * once). */
static int wait_unlocked(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	struct sigaction sa = {0}, old;
	sa.sa_handler = on_alarm; /* no SA_RESTART: the alarm ends flock with EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	alarm(WAIT_LIMIT);
	int rc;
	while ((rc = flock(fd, LOCK_SH)) != 0 && errno == EINTR && !timed_out)
		;
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	close(fd);
	return rc;
}

/* mkdir_all creates dir and its missing parents with mode 0700, as cache.Open does
 * (os.MkdirAll): the cache directory of a new user, or of a fresh $XDG_CACHE_HOME. */
static int mkdir_all(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0)
		return 0;
	char *p = strdup(dir);
	if (!p)
		return -1;
	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		if (!s)
			break;
		*s = '/';
	}
	free(p);
	return 0;
}

/* answer prints the answer for args and exits, if there is one. Otherwise it takes its
 * turn among the fronts of the same inputs: the first runs the full program with the
 * turn's lock (named in $AWSKEEP_ROUTE_LOCK, see fastpath.Handoff), the others wait for
 * that program and answer from the cache it fills. Whatever goes wrong here leaves the
 * answer to the full program. */
static void answer(int argc, char **args, int full_fd)
{
	char *dir = front_cache_dir();
	if (!dir)
		return;
	struct stat st;
	if (mkdir_all(dir) || stat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != getuid() ||
	    (st.st_mode & 077))
		goto out;
	struct front_buf inputs = {0}, file = {0};
	size_t off;
	char name[17];
	if (front_inputs(argc, args, full_fd, &inputs))
		goto free;
	front_name(inputs.p, inputs.len, name);
	if (front_read_answer(dir, name, inputs.p, inputs.len, &file, &off) == 0)
		exit_with(file.p + off, file.len - off);
	front_buf_free(&file);

	char lock[PATH_MAX];
	if (snprintf(lock, sizeof lock, "%s/%s.lock", dir, name) >= (int)sizeof lock)
		goto free;
	int fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		goto free;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		goto free;
	}
	int rc;
	while ((rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
		;
	if (rc == 0) {
		/* The leader: the lock survives execve, for the full program to release. */
		char kv[64];
		snprintf(kv, sizeof kv, "%d:%s", fd, name);
		if (fcntl(fd, F_SETFD, 0) || setenv("AWSKEEP_ROUTE_LOCK", kv, 1))
			close(fd);
		goto free;
	}
	int busy = errno == EWOULDBLOCK;
	close(fd);
	if (!busy || wait_unlocked(lock))
		goto free;
	if (front_read_answer(dir, name, inputs.p, inputs.len, &file, &off) == 0)
		exit_with(file.p + off, file.len - off);
	front_buf_free(&file);
free:
	front_buf_free(&inputs);
out:
	free(dir);
}

/* open_full opens the full program next to this one (symbolic links resolved), refusing
 * it, as plugins are refused, if anyone but root and the user could have written it or a
 * directory on the way to it. */
static int open_full(char full[PATH_MAX])
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0)
		fail("find this program's directory: readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		fail("find this program's directory: %s is not an absolute path", exe);
	*slash = '\0';
	if (snprintf(full, PATH_MAX, "%s/%s", exe, FULL_PROGRAM) >= PATH_MAX)
		fail("find this program's directory: path too long");
	char err[2 * PATH_MAX + 256];
	int fd = front_trust_open(full, err, sizeof err);
	if (fd < 0)
		fail("refusing %s (awskeep's full program): %s", full, err);
	return fd;
}

int main(int argc, char **argv)
{
	/* As the full program does first: the cached credentials this process may read must
	 * not end up in a core file or be read from its memory. */
	harden();
	/* Run by a plugin (its AWS profile's credential_process is awskeep): refuse before the
	 * cache and its locks, which the awskeep above may hold while it waits for that
	 * plugin (plugins.DepthEnvVar). */
	const char *depth = getenv("AWSKEEP_PLUGIN_DEPTH");
	if (depth && *depth && strcmp(depth, "0") != 0)
		fail("awskeep may not run under an awskeep plugin ($AWSKEEP_PLUGIN_DEPTH is set): the credential_process of the plugin's AWS profile "
		     "runs awskeep, which would start the plugin again; give the plugin AWS credentials of its own (profile= in its key URI "
		     "naming a profile without awskeep, or an instance role)");
	char full[PATH_MAX];
	int fd = open_full(full);
	int nargs = argc > 0 ? argc - 1 : 0;
	char **args = argv + (argc > 0 ? 1 : 0);
	/* AWSKEEP_LOG_LEVEL asks for the full program's account of what it does. */
	const char *level = getenv("AWSKEEP_LOG_LEVEL");
	if (front_routable(nargs, args) && (!level || !*level))
		answer(nargs, args, fd);

	char **av = malloc(((size_t)nargs + 2) * sizeof *av);
	if (!av)
		fail("run %s: out of memory; reinstall awskeep", full);
	av[0] = "awskeep";
	for (int i = 0; i < nargs; i++)
		av[i + 1] = args[i];
	av[nargs + 1] = NULL;
	/* Through /proc/self/fd, the file open_full checked runs, not one swapped in since. */
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	struct stat st;
	execve(stat(self, &st) == 0 ? self : full, av, environ);
	fail("run %s: %s; reinstall awskeep", full, strerror(errno));
	return 1;
}

#endif
