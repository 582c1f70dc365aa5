/*
 * The parts of awskeep's C front that its Go tests call through cgo (package cfront).
 * What the front does, and why it is C, is in front.c.
 */
#ifndef AWSKEEP_FRONT_H
#define AWSKEEP_FRONT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A growable byte buffer. */
struct front_buf {
	unsigned char *p;
	size_t len, cap;
};

/* The parsed header line of an answer file (core/cache/answer.go). */
struct front_answer_header {
	int64_t not_after;
	char entry[65];
	uint64_t dev, ino;
	int64_t size, mtime_ns;
	char digest[33];
	size_t answer_len;
};

/* The names of core/fastpath.EnvNames, in its order, ending with NULL. */
extern const char *const front_env_names[];

/* 1 if args (without the program name) are `credential-process --profile NAME` or
 * `credential-process --profile=NAME`, as fastpath.Routable. */
int front_routable(int argc, char *const *args);

/* Appends fastpath.Inputs of args (without the program name) to out, with the full
 * program's identity taken from the open descriptor full_fd. 0 on success, -1 when the
 * invocation cannot be answered by the front (the full program then runs). */
int front_inputs(int argc, char *const *args, int full_fd, struct front_buf *out);

/* fastpath.Name: 16 lower-case hex digits of the FNV-1a 64 hash, NUL-terminated. */
void front_name(const unsigned char *inputs, size_t len, char name[17]);

/* The inputs digest of an answer (core/cache): 32 lower-case hex digits of the FNV-1a 128
 * hash, NUL-terminated. */
void front_digest(const unsigned char *inputs, size_t len, char digest[33]);

/* Parses data, a whole answer file; on success (0) *body_off is where the answer starts. */
int front_parse_answer(const unsigned char *data, size_t len, struct front_answer_header *h,
		       size_t *body_off);

/* The answer recorded in the cache directory dir under name for inputs, if it may be
 * printed now (cache.ReadAnswer): 0 and the answer in out (the whole file; the answer is
 * at *answer_off), or -1. */
int front_read_answer(const char *dir, const char *name, const unsigned char *inputs,
		      size_t inputs_len, struct front_buf *out, size_t *answer_off);

/* The cache directory as cache.DirFrom gives it, malloc'ed, or NULL when the front
 * cannot name it exactly as the full program would. */
char *front_cache_dir(void);

/* The config file as fastpath.ConfigPath gives it, malloc'ed, or NULL (see above). */
char *front_config_path(void);

/* Opens path as plugins/trust.Open does: every directory on the way and the file owned by
 * root or the user and not writable by group or others (sticky directories excepted),
 * symbolic links followed and checked. The descriptor, or -1 with why in err. */
int front_trust_open(const char *path, char *err, size_t errlen);

void front_buf_free(struct front_buf *b);

#endif
