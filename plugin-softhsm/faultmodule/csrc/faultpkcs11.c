/*
 * faultpkcs11.c: a PKCS#11 module that misbehaves on request, for awskeep's tests.
 *
 * It dlopens a real module (SoftHSM2 unless AWSKEEP_FAULT_TARGET names another one) and
 * hands out a copy of that module's function list (PKCS#11 v2.40 section 5.2
 * C_GetFunctionList) in which C_Initialize, C_Login, C_SignInit, C_Sign, C_CreateObject,
 * C_DestroyObject and C_SetAttributeValue are wrapped. Every other call goes straight to the
 * real module. The wrappers:
 *
 *   - read the fault from the file named by AWSKEEP_FAULT_CONTROL on every call (one word:
 *     none, segv, abort, hang, stdout, flood, hang-create, hang-destroy, hang-setattr), so a
 *     test can switch it between requests to one long-running plugin process;
 *   - append one line per call to the file named by AWSKEEP_FAULT_LOG ("C_Login user=1"),
 *     so a test can count how often a PIN reached the token, and one line per write to
 *     stdout with write(2)'s result ("stdout C_Sign 25").
 *
 * Faults inside C_Sign (the call the awskeep backend makes for every HMAC, and for the check
 * of a newly imported key):
 *   segv    store through a null pointer: a real SIGSEGV in C code
 *   abort   abort(): SIGABRT, as a failed assert in a vendor library would
 *   hang    never return, as a token that stopped answering
 *   stdout  write garbage to file descriptor 1 with write(2), here and in C_Initialize,
 *           then behave normally: stdout carries the go-plugin handshake
 *   flood   write 1 MiB without a newline to file descriptor 1, then behave normally:
 *           more than go-plugin's host reads as one line (bufio.MaxScanTokenSize, 64 KiB)
 *
 * and, to stop an import that replaces a key at one of its steps, one fault per call:
 *   hang-create   in C_CreateObject
 *   hang-destroy  in C_DestroyObject
 *   hang-setattr  in C_SetAttributeValue
 * each of which holds the call, before it reaches the real module, for as long as the
 * control file names it; once it names another fault the call goes on, as on a token that
 * was only slow.
 *
 * Only C_GetFunctionList is exported; callers that dlsym other C_ functions directly are
 * not served. The PKCS#11 types are declared here (v2.40, Unix: no structure packing, CK_ULONG
 * is unsigned long) so that building needs no header package. Built by the Go package
 * github.com/awskeep/awskeep/plugin-softhsm/faultmodule (Build), never by cgo.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef unsigned long CK_ULONG;
typedef CK_ULONG CK_RV;
typedef CK_ULONG CK_SESSION_HANDLE;
typedef CK_ULONG CK_OBJECT_HANDLE;
typedef CK_ULONG CK_USER_TYPE;
typedef CK_ULONG CK_MECHANISM_TYPE;
typedef CK_ULONG CK_ATTRIBUTE_TYPE;
typedef unsigned char CK_BYTE;
typedef unsigned char CK_UTF8CHAR;

typedef struct CK_VERSION {
	CK_BYTE major;
	CK_BYTE minor;
} CK_VERSION;

typedef struct CK_MECHANISM {
	CK_MECHANISM_TYPE mechanism;
	void *pParameter;
	CK_ULONG ulParameterLen;
} CK_MECHANISM;

typedef struct CK_ATTRIBUTE {
	CK_ATTRIBUTE_TYPE type;
	void *pValue;
	CK_ULONG ulValueLen;
} CK_ATTRIBUTE;

#define CKR_GENERAL_ERROR 0x05UL
#define CKR_ARGUMENTS_BAD 0x07UL

/* The 68 entries of CK_FUNCTION_LIST in the order of PKCS#11 v2.40 pkcs11f.h. */
#define CK_FUNCTIONS(X)                                                                     \
	X(C_Initialize) X(C_Finalize) X(C_GetInfo) X(C_GetFunctionList) X(C_GetSlotList)          \
	X(C_GetSlotInfo) X(C_GetTokenInfo) X(C_GetMechanismList) X(C_GetMechanismInfo)            \
	X(C_InitToken) X(C_InitPIN) X(C_SetPIN) X(C_OpenSession) X(C_CloseSession)                \
	X(C_CloseAllSessions) X(C_GetSessionInfo) X(C_GetOperationState)                          \
	X(C_SetOperationState) X(C_Login) X(C_Logout) X(C_CreateObject) X(C_CopyObject)           \
	X(C_DestroyObject) X(C_GetObjectSize) X(C_GetAttributeValue) X(C_SetAttributeValue)       \
	X(C_FindObjectsInit) X(C_FindObjects) X(C_FindObjectsFinal) X(C_EncryptInit)              \
	X(C_Encrypt) X(C_EncryptUpdate) X(C_EncryptFinal) X(C_DecryptInit) X(C_Decrypt)           \
	X(C_DecryptUpdate) X(C_DecryptFinal) X(C_DigestInit) X(C_Digest) X(C_DigestUpdate)        \
	X(C_DigestKey) X(C_DigestFinal) X(C_SignInit) X(C_Sign) X(C_SignUpdate) X(C_SignFinal)    \
	X(C_SignRecoverInit) X(C_SignRecover) X(C_VerifyInit) X(C_Verify) X(C_VerifyUpdate)       \
	X(C_VerifyFinal) X(C_VerifyRecoverInit) X(C_VerifyRecover) X(C_DigestEncryptUpdate)       \
	X(C_DecryptDigestUpdate) X(C_SignEncryptUpdate) X(C_DecryptVerifyUpdate)                  \
	X(C_GenerateKey) X(C_GenerateKeyPair) X(C_WrapKey) X(C_UnwrapKey) X(C_DeriveKey)          \
	X(C_SeedRandom) X(C_GenerateRandom) X(C_GetFunctionStatus) X(C_CancelFunction)            \
	X(C_WaitForSlotEvent)

/*
 * Entries are stored as one generic pointer type: the list is copied from the real module
 * and handed on, and only the wrapped entries are called here, through their real types.
 * void (*)(void) is the type GCC's -Wcast-function-type accepts for any function.
 */
typedef void (*ck_entry)(void);

typedef struct CK_FUNCTION_LIST {
	CK_VERSION version;
#define CK_FIELD(name) ck_entry name;
	CK_FUNCTIONS(CK_FIELD)
#undef CK_FIELD
} CK_FUNCTION_LIST;

#define CK_COUNT(name) +1
_Static_assert(0 CK_FUNCTIONS(CK_COUNT) == 68, "PKCS#11 v2.40 has 68 functions");
#undef CK_COUNT
_Static_assert(offsetof(CK_FUNCTION_LIST, C_Initialize) == sizeof(void *),
	       "the version is padded to a pointer");
_Static_assert(offsetof(CK_FUNCTION_LIST, C_WaitForSlotEvent) == 68 * sizeof(void *),
	       "one pointer per function after the version");

typedef CK_RV (*initialize_fn)(void *);
typedef CK_RV (*get_function_list_fn)(CK_FUNCTION_LIST **);
typedef CK_RV (*login_fn)(CK_SESSION_HANDLE, CK_USER_TYPE, CK_UTF8CHAR *, CK_ULONG);
typedef CK_RV (*sign_init_fn)(CK_SESSION_HANDLE, CK_MECHANISM *, CK_OBJECT_HANDLE);
typedef CK_RV (*sign_fn)(CK_SESSION_HANDLE, CK_BYTE *, CK_ULONG, CK_BYTE *, CK_ULONG *);
typedef CK_RV (*create_object_fn)(CK_SESSION_HANDLE, CK_ATTRIBUTE *, CK_ULONG, CK_OBJECT_HANDLE *);
typedef CK_RV (*destroy_object_fn)(CK_SESSION_HANDLE, CK_OBJECT_HANDLE);
typedef CK_RV (*set_attribute_value_fn)(CK_SESSION_HANDLE, CK_OBJECT_HANDLE, CK_ATTRIBUTE *, CK_ULONG);

#define DEFAULT_TARGET "/usr/lib/softhsm/libsofthsm2.so"
#define GARBAGE "FAULTY MODULE SAYS HELLO\n"

static CK_FUNCTION_LIST *real;    /* the target's own list */
static CK_FUNCTION_LIST wrapped;  /* what callers get */
static CK_RV load_result = CKR_GENERAL_ERROR;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

enum fault {
	FAULT_NONE,
	FAULT_SEGV,
	FAULT_ABORT,
	FAULT_HANG,
	FAULT_STDOUT,
	FAULT_FLOOD,
	FAULT_HANG_CREATE,
	FAULT_HANG_DESTROY,
	FAULT_HANG_SETATTR,
	FAULT_UNKNOWN
};

/* complain writes one line to stderr, which the plugin host files under the plugin's log. */
static void complain(const char *what, const char *detail)
{
	char line[512];
	int n = snprintf(line, sizeof line, "faultpkcs11: %s: %s\n", what, detail);
	if (n > 0 && write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0) {
		/* nowhere left to complain */
	}
}

/*
 * current_fault reads the control file anew on every call. No variable or a missing file
 * means none; a word this module does not know is an error, so that a typo in a test fails
 * it instead of silently testing nothing.
 */
static enum fault current_fault(void)
{
	const char *path = getenv("AWSKEEP_FAULT_CONTROL");
	if (path == NULL || *path == '\0')
		return FAULT_NONE;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return FAULT_NONE;
	char word[32];
	ssize_t n = read(fd, word, sizeof word - 1);
	close(fd);
	if (n < 0)
		n = 0;
	word[n] = '\0';
	word[strcspn(word, " \t\r\n")] = '\0';
	static const struct {
		const char *name;
		enum fault f;
	} names[] = {
		{"", FAULT_NONE},	   {"none", FAULT_NONE}, {"segv", FAULT_SEGV},
		{"abort", FAULT_ABORT},	   {"hang", FAULT_HANG}, {"stdout", FAULT_STDOUT}, {"flood", FAULT_FLOOD},
		{"hang-create", FAULT_HANG_CREATE}, {"hang-destroy", FAULT_HANG_DESTROY},
		{"hang-setattr", FAULT_HANG_SETATTR},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(word, names[i].name) == 0)
			return names[i].f;
	complain("unknown fault in AWSKEEP_FAULT_CONTROL", word);
	return FAULT_UNKNOWN;
}

/* record appends line to the call log with one write(2): O_APPEND keeps lines whole. */
static void record(const char *line)
{
	const char *path = getenv("AWSKEEP_FAULT_LOG");
	if (path == NULL || *path == '\0')
		return;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		complain("open AWSKEEP_FAULT_LOG", strerror(errno));
		return;
	}
	if (write(fd, line, strlen(line)) < 0)
		complain("write AWSKEEP_FAULT_LOG", strerror(errno));
	close(fd);
}

/*
 * garbage writes to file descriptor 1 behind the Go runtime's back (go-plugin swaps
 * os.Stdout, not the descriptor) and logs what write(2) returned, so a test can tell the
 * bytes really went out. A write that blocks (nobody reads the pipe) logs nothing.
 */
static void garbage(const char *fn, const char *buf, size_t len)
{
	ssize_t n = write(1, buf, len);
	char line[96];
	snprintf(line, sizeof line, "stdout %s %zd\n", fn, n);
	record(line);
}

static char flood[1 << 20];

/* misbehave runs the fault chosen for C_Sign; segv, abort and hang never return. */
static CK_RV misbehave(enum fault f)
{
	switch (f) {
	case FAULT_SEGV: {
		/*
		 * Both volatile: the pointer so the compiler cannot see the null and emit a trap
		 * (SIGILL) instead, the store so it is not dropped (GCC 12 -O2 drops a plain store
		 * through an unknown pointer here).
		 */
		volatile int *volatile p = NULL;
		*p = 1;
		break;
	}
	case FAULT_ABORT:
		abort();
	case FAULT_HANG:
		for (;;)
			pause(); /* the Go runtime's signals (SIGURG) end pause; sleep on */
	case FAULT_STDOUT:
		garbage("C_Sign", GARBAGE, sizeof GARBAGE - 1);
		break;
	case FAULT_FLOOD:
		memset(flood, 'x', sizeof flood);
		garbage("C_Sign", flood, sizeof flood);
		break;
	case FAULT_UNKNOWN:
		return CKR_GENERAL_ERROR;
	case FAULT_NONE:
	case FAULT_HANG_CREATE:
	case FAULT_HANG_DESTROY:
	case FAULT_HANG_SETATTR:
		break;
	}
	return 0;
}

/*
 * hold_while keeps the calling thread here while the control file names f, checking every
 * 10 ms: a token that stopped answering in one call, which a test can let go on. It returns
 * CKR_GENERAL_ERROR for a fault word this module does not know, as every wrapper does.
 */
static CK_RV hold_while(enum fault f)
{
	enum fault now;
	while ((now = current_fault()) == f)
		usleep(10000);
	return now == FAULT_UNKNOWN ? CKR_GENERAL_ERROR : 0;
}

static CK_RV fault_C_Initialize(void *args)
{
	record("C_Initialize\n");
	enum fault f = current_fault();
	if (f == FAULT_STDOUT)
		garbage("C_Initialize", GARBAGE, sizeof GARBAGE - 1);
	return ((initialize_fn)real->C_Initialize)(args);
}

static CK_RV fault_C_Login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
	char line[64];
	snprintf(line, sizeof line, "C_Login user=%lu\n", user);
	record(line);
	return ((login_fn)real->C_Login)(session, user, pin, pin_len);
}

static CK_RV fault_C_SignInit(CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key)
{
	record("C_SignInit\n");
	return ((sign_init_fn)real->C_SignInit)(session, mechanism, key);
}

static CK_RV fault_C_Sign(CK_SESSION_HANDLE session, CK_BYTE *data, CK_ULONG data_len, CK_BYTE *sig, CK_ULONG *sig_len)
{
	record("C_Sign\n");
	CK_RV rv = misbehave(current_fault());
	if (rv != 0)
		return rv;
	return ((sign_fn)real->C_Sign)(session, data, data_len, sig, sig_len);
}

static CK_RV fault_C_CreateObject(CK_SESSION_HANDLE session, CK_ATTRIBUTE *tmpl, CK_ULONG count, CK_OBJECT_HANDLE *object)
{
	record("C_CreateObject\n");
	CK_RV rv = hold_while(FAULT_HANG_CREATE);
	if (rv != 0)
		return rv;
	return ((create_object_fn)real->C_CreateObject)(session, tmpl, count, object);
}

static CK_RV fault_C_DestroyObject(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object)
{
	record("C_DestroyObject\n");
	CK_RV rv = hold_while(FAULT_HANG_DESTROY);
	if (rv != 0)
		return rv;
	return ((destroy_object_fn)real->C_DestroyObject)(session, object);
}

static CK_RV fault_C_SetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
	record("C_SetAttributeValue\n");
	CK_RV rv = hold_while(FAULT_HANG_SETATTR);
	if (rv != 0)
		return rv;
	return ((set_attribute_value_fn)real->C_SetAttributeValue)(session, object, tmpl, count);
}

static CK_RV get_function_list_wrapped(CK_FUNCTION_LIST **list);

static void load(void)
{
	const char *target = getenv("AWSKEEP_FAULT_TARGET");
	if (target == NULL || *target == '\0')
		target = DEFAULT_TARGET;
	void *lib = dlopen(target, RTLD_NOW | RTLD_LOCAL);
	if (lib == NULL) {
		complain("dlopen", dlerror());
		return;
	}
	get_function_list_fn get = (get_function_list_fn)dlsym(lib, "C_GetFunctionList");
	if (get == NULL) {
		complain("no C_GetFunctionList in", target);
		return;
	}
	CK_RV rv = get(&real);
	if (rv != 0 || real == NULL) {
		complain("C_GetFunctionList failed in", target);
		load_result = rv != 0 ? rv : CKR_GENERAL_ERROR;
		return;
	}
	wrapped = *real;
	wrapped.C_Initialize = (ck_entry)fault_C_Initialize;
	wrapped.C_GetFunctionList = (ck_entry)get_function_list_wrapped;
	wrapped.C_Login = (ck_entry)fault_C_Login;
	wrapped.C_SignInit = (ck_entry)fault_C_SignInit;
	wrapped.C_Sign = (ck_entry)fault_C_Sign;
	wrapped.C_CreateObject = (ck_entry)fault_C_CreateObject;
	wrapped.C_DestroyObject = (ck_entry)fault_C_DestroyObject;
	wrapped.C_SetAttributeValue = (ck_entry)fault_C_SetAttributeValue;
	load_result = 0;
}

static CK_RV get_function_list_wrapped(CK_FUNCTION_LIST **list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_once(&load_once, load);
	if (load_result != 0)
		return load_result;
	*list = &wrapped;
	return 0;
}

__attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST **list)
{
	return get_function_list_wrapped(list);
}
