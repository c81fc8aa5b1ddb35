// SPDX-License-Identifier: GPL-2.0
/*
 * cbench: the timed inner loops of the cppaufs benchmarks, and the helpers
 * that populate the branches.  Built on the host (static-free, plain libc) and
 * run inside the VM by bench/guest.sh, so that syscall-heavy loops are not
 * dominated by shell overhead.
 *
 * Timed commands print one line per run:
 *     <median_ns> <min_ns> <max_ns> <reps> <ops> <sample_ns>...
 * and exit 0; they exit 3 with "unsupported: <what>: <strerror>" on stderr
 * when the file system refuses an operation (EROFS, EXDEV, EOPNOTSUPP...),
 * so that the caller can record the workload as unsupported.
 *
 *   cbench [-r REPS] [-c] stat FMT COUNT       stat FMT%i, i < COUNT
 *   cbench [-r REPS] [-c] neg FMT COUNT        same, every name must be absent
 *   cbench [-r REPS] [-c] readdir DIR          getdents64 of DIR
 *   cbench [-r REPS] [-c] find DIR             lstat walk of a tree (nftw)
 *   cbench [-r REPS] [-c] seqread FILE         read(2) 1 MiB at a time
 *   cbench [-r REPS] [-c] randread FILE COUNT  pread 4 KiB at random offsets
 *   cbench [-r REPS] write1 FILE               open O_WRONLY + write 1 byte
 *   cbench [-r REPS] chmod FILE                chmod (alternating modes)
 *   cbench [-r REPS] cwu DIR COUNT             create + write 4 KiB + close
 *                                              COUNT files, then unlink them
 *   cbench [-r REPS] churn DIR COUNT           create (empty) COUNT files,
 *                                              stat each, unlink each
 *   cbench [-r REPS] rename DIR COUNT          rename COUNT files created
 *                                              (untimed) in DIR, then unlink
 *   cbench [-r REPS] renamelower FMT COUNT     rename FMT%i to FMT%i.mv
 *                                              (once: the union's lower files)
 *   cbench [-r REPS] brops MNT DIR COUNT OLD NEW
 *                                              COUNT times: remount MNT with
 *                                              append:DIR=ro, stat MNT/OLD
 *                                              (a name cached before), stat
 *                                              MNT/NEW (a name in DIR), stat
 *                                              MNT/OLD again, remount with
 *                                              del:DIR, stat MNT/OLD; one
 *                                              line per step, prefixed with
 *                                              its name (see brops())
 * -c drops the caches (untimed) before every repetition.
 *
 * Population (untimed):
 *   cbench mkfiles FMT FROM TO [STEP [OFFSET]]  empty files FMT%i for
 *                                              i = FROM+OFFSET, +STEP... < TO
 *   cbench mktree DIR NDIRS NFILES             DIR/dNNN/fNNNNN
 *   cbench mkfile PATH MIB                     a file of MIB MiB of data
 *   cbench blocks PATH                         print st_blocks * 512
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int reps = 1;
static int cold;
static long ops;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "cbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* An operation the file system may legitimately refuse. */
static void refused(const char *what)
{
	int e = errno;

	fprintf(stderr, "unsupported: %s: %s\n", what, strerror(e));
	exit(3);
}

static void drop_caches(void)
{
	int fd;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0)
		die("/proc/sys/vm/drop_caches");
	if (write(fd, "3", 1) != 1)
		die("drop_caches");
	close(fd);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The result line: median, min, max, count, ops, then every sample. */
static void report(uint64_t *t)
{
	uint64_t med;
	int i;

	qsort(t, reps, sizeof(*t), cmp_u64);
	med = reps % 2 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
	printf("%llu %llu %llu %d %ld", (unsigned long long)med,
	       (unsigned long long)t[0], (unsigned long long)t[reps - 1],
	       reps, ops);
	for (i = 0; i < reps; i++)
		printf(" %llu", (unsigned long long)t[i]);
	printf("\n");
}

typedef void (*body_fn)(char **argv);

static void timed(body_fn fn, char **argv)
{
	uint64_t *t = calloc(reps, sizeof(*t)), t0;
	int i;

	for (i = 0; i < reps; i++) {
		if (cold)
			drop_caches();
		ops = 0;
		t0 = now_ns();
		fn(argv);
		t[i] = now_ns() - t0;
	}
	report(t);
	free(t);
}

static char path[4096];

static const char *fmt_path(const char *fmt, long i)
{
	snprintf(path, sizeof(path), fmt, i);
	return path;
}

static void do_stat(char **argv)
{
	long n = atol(argv[1]), i;
	struct stat st;

	for (i = 0; i < n; i++) {
		if (stat(fmt_path(argv[0], i), &st))
			die(path);
		ops++;
	}
}

static void do_neg(char **argv)
{
	long n = atol(argv[1]), i;
	struct stat st;

	for (i = 0; i < n; i++) {
		if (!stat(fmt_path(argv[0], i), &st) || errno != ENOENT) {
			errno = errno ? errno : EEXIST;
			die(path);
		}
		ops++;
	}
}

static void do_readdir(char **argv)
{
	char buf[65536];
	long n;
	int fd = open(argv[0], O_RDONLY | O_DIRECTORY);

	if (fd < 0)
		die(argv[0]);
	while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		long off = 0;

		while (off < n) {
			unsigned short reclen;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			off += reclen;
			ops++;
		}
	}
	if (n < 0)
		die(argv[0]);
	close(fd);
}

static int walk_cb(const char *p, const struct stat *st, int flag,
		   struct FTW *f)
{
	(void)p; (void)st; (void)flag; (void)f;
	ops++;
	return 0;
}

static void do_find(char **argv)
{
	if (nftw(argv[0], walk_cb, 64, FTW_PHYS))
		die(argv[0]);
}

static char *iobuf;

static void do_seqread(char **argv)
{
	int fd = open(argv[0], O_RDONLY);
	ssize_t n;

	if (fd < 0)
		die(argv[0]);
	while ((n = read(fd, iobuf, 1 << 20)) > 0)
		ops += n;
	if (n < 0)
		die(argv[0]);
	close(fd);
}

static void do_randread(char **argv)
{
	long n = atol(argv[1]), i, blocks;
	unsigned long long x = 88172645463325252ull;	/* xorshift, fixed seed */
	struct stat st;
	int fd = open(argv[0], O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		die(argv[0]);
	blocks = st.st_size / 4096;
	for (i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		if (pread(fd, iobuf, 4096, (off_t)(x % blocks) * 4096) != 4096)
			die("pread");
		ops++;
	}
	close(fd);
}

static void do_write1(char **argv)
{
	int fd = open(argv[0], O_WRONLY);

	if (fd < 0)
		refused(argv[0]);
	if (pwrite(fd, "x", 1, 0) != 1)
		refused("write");
	if (close(fd))
		refused("close");
	ops++;
}

static void do_chmod(char **argv)
{
	static int flip;

	if (chmod(argv[0], (flip ^= 1) ? 0600 : 0644))
		refused(argv[0]);
	ops++;
}

static void do_cwu(char **argv)
{
	long n = atol(argv[1]), i;
	char p[4096];
	int fd;

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/cwu%05ld", argv[0], i);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			refused("create");
		if (write(fd, iobuf, 4096) != 4096)
			refused("write");
		if (close(fd))
			refused("close");
		ops++;
	}
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/cwu%05ld", argv[0], i);
		if (unlink(p))
			refused("unlink");
	}
}

static void do_churn(char **argv)
{
	long n = atol(argv[1]), i;
	struct stat st;
	char p[4096];
	int fd;

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/ch%07ld", argv[0], i);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			refused("create");
		if (close(fd))
			refused("close");
	}
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/ch%07ld", argv[0], i);
		if (stat(p, &st))
			refused("stat");
	}
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/ch%07ld", argv[0], i);
		if (unlink(p))
			refused("unlink");
		ops++;
	}
}

static void rename_setup(const char *dir, long n)
{
	char p[4096];
	long i;
	int fd;

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/rn%05ld", dir, i);
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			refused("create");
		close(fd);
	}
}

static void rename_cleanup(const char *dir, long n)
{
	char p[4096];
	long i;

	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/rn%05ld.mv", dir, i);
		if (unlink(p))
			refused("unlink");
	}
}

static void do_rename(char **argv)
{
	long n = atol(argv[1]), i;
	char a[4096], b[4200];

	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "%s/rn%05ld", argv[0], i);
		snprintf(b, sizeof(b), "%s.mv", a);
		if (rename(a, b))
			refused("rename");
		ops++;
	}
}

static void do_renamelower(char **argv)
{
	long n = atol(argv[1]), i;
	char b[4200];

	for (i = 0; i < n; i++) {
		snprintf(b, sizeof(b), "%s.mv", fmt_path(argv[0], i));
		if (rename(path, b))
			refused("rename");
		ops++;
	}
}

static void timed_rename(char **argv)
{
	uint64_t *t = calloc(reps, sizeof(*t)), t0;
	long n = atol(argv[1]);
	int i;

	for (i = 0; i < reps; i++) {
		rename_setup(argv[0], n);
		ops = 0;
		t0 = now_ns();
		do_rename(argv);
		t[i] = now_ns() - t0;
		rename_cleanup(argv[0], n);
	}
	report(t);
	free(t);
}

/* -- population ---------------------------------------------------------- */

static int mkfiles(char **argv, int argc)
{
	long from = atol(argv[1]), to = atol(argv[2]);
	long step = argc > 3 ? atol(argv[3]) : 1;
	long off = argc > 4 ? atol(argv[4]) : 0, i;
	int fd;

	for (i = from + off; i < to; i += step) {
		fd = open(fmt_path(argv[0], i), O_WRONLY | O_CREAT, 0644);
		if (fd < 0)
			die(path);
		close(fd);
	}
	return 0;
}

static int mktree(char **argv)
{
	long nd = atol(argv[1]), nf = atol(argv[2]), d, f;
	char p[4096];
	int fd;

	if (mkdir(argv[0], 0755) && errno != EEXIST)
		die(argv[0]);
	for (d = 0; d < nd; d++) {
		snprintf(p, sizeof(p), "%s/d%03ld", argv[0], d);
		if (mkdir(p, 0755) && errno != EEXIST)
			die(p);
		for (f = 0; f < nf; f++) {
			snprintf(p, sizeof(p), "%s/d%03ld/f%05ld", argv[0], d, f);
			fd = open(p, O_WRONLY | O_CREAT, 0644);
			if (fd < 0)
				die(p);
			close(fd);
		}
	}
	return 0;
}

static int mkfile(char **argv)
{
	long mib = atol(argv[1]), i, j;
	int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		die(argv[0]);
	for (i = 0; i < mib; i++) {
		/* non-zero, non-repeating-per-block data: no dedup, no holes */
		for (j = 0; j < (1 << 20) / 8; j++)
			((uint64_t *)iobuf)[j] = (uint64_t)i << 32 | j;
		if (write(fd, iobuf, 1 << 20) != 1 << 20)
			die("write");
	}
	if (close(fd))
		die("close");
	return 0;
}

/*
 * Live branch operations on the union mounted at MNT: each step of the
 * cycle is timed on its own, its COUNT times summed into one sample, and
 * each step gets its own result line, "<step> <median>..." (ops = COUNT):
 *   append      remount, append:DIR=ro (mount(2) with MS_REMOUNT: the
 *               kernel's share, no mount(8), no helper)
 *   stat_append the first stat of OLD after it (looked up before: the
 *               change made the union's cached dentries stale)
 *   stat_new    the first stat of NEW, a name in DIR only
 *   stat_warm   OLD once more: the cached lookup, for reference
 *   del         remount, del:DIR
 *   stat_del    the first stat of OLD after it
 * The union has its own branches plus DIR between append and del.
 */
enum { BR_APPEND, BR_STAT_APPEND, BR_STAT_NEW, BR_STAT_WARM, BR_DEL,
       BR_STAT_DEL, BR_NSTEPS };

static void brops(char **argv)
{
	static const char *const names[BR_NSTEPS] = {
		"append", "stat_append", "stat_new", "stat_warm", "del", "stat_del",
	};
	const char *mnt = argv[0], *dir = argv[1];
	long count = atol(argv[2]), i;
	char app[4200], del[4200], old[4200], new[4200];
	uint64_t *t[BR_NSTEPS], t0, t1;
	struct stat st;
	int r, s;

	snprintf(app, sizeof(app), "append:%s=ro", dir);
	snprintf(del, sizeof(del), "del:%s", dir);
	snprintf(old, sizeof(old), "%s/%s", mnt, argv[3]);
	snprintf(new, sizeof(new), "%s/%s", mnt, argv[4]);
	if (stat(old, &st))
		die(old);
	for (s = 0; s < BR_NSTEPS; s++)
		t[s] = calloc(reps, sizeof(*t[s]));
#define STEP(s, call, what) do {					\
		t0 = now_ns();						\
		if (call)						\
			die(what);					\
		t1 = now_ns();						\
		t[s][r] += t1 - t0;					\
	} while (0)
	for (r = 0; r < reps; r++) {
		for (i = 0; i < count; i++) {
			STEP(BR_APPEND, mount("none", mnt, NULL, MS_REMOUNT, app), app);
			STEP(BR_STAT_APPEND, stat(old, &st), old);
			STEP(BR_STAT_NEW, stat(new, &st), new);
			STEP(BR_STAT_WARM, stat(old, &st), old);
			STEP(BR_DEL, mount("none", mnt, NULL, MS_REMOUNT, del), del);
			STEP(BR_STAT_DEL, stat(old, &st), old);
		}
	}
#undef STEP
	ops = count;
	for (s = 0; s < BR_NSTEPS; s++) {
		printf("%s ", names[s]);
		report(t[s]);
		free(t[s]);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: cbench [-r REPS] [-c] CMD ARGS... (see the source)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int nargs;
		body_fn fn;
	} cmds[] = {
		{ "stat", 2, do_stat },		{ "neg", 2, do_neg },
		{ "readdir", 1, do_readdir },	{ "find", 1, do_find },
		{ "seqread", 1, do_seqread },	{ "randread", 2, do_randread },
		{ "write1", 1, do_write1 },	{ "chmod", 1, do_chmod },
		{ "cwu", 2, do_cwu },		{ "renamelower", 2, do_renamelower },
		{ "churn", 2, do_churn },
	};
	int opt;
	size_t i;

	while ((opt = getopt(argc, argv, "+r:c")) != -1) {
		switch (opt) {
		case 'r': reps = atoi(optarg); break;
		case 'c': cold = 1; break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || reps < 1)
		usage();
	iobuf = aligned_alloc(4096, 1 << 20);
	memset(iobuf, 'a', 1 << 20);

	if (!strcmp(argv[0], "mkfiles") && argc >= 4)
		return mkfiles(argv + 1, argc - 1);
	if (!strcmp(argv[0], "mktree") && argc == 4)
		return mktree(argv + 1);
	if (!strcmp(argv[0], "mkfile") && argc == 3)
		return mkfile(argv + 1);
	if (!strcmp(argv[0], "blocks") && argc == 2) {
		struct stat st;

		if (stat(argv[1], &st))
			die(argv[1]);
		printf("%lld\n", (long long)st.st_blocks * 512);
		return 0;
	}
	if (!strcmp(argv[0], "brops") && argc == 6) {
		brops(argv + 1);
		return 0;
	}
	if (!strcmp(argv[0], "rename") && argc == 3) {
		timed_rename(argv + 1);
		return 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].name))
			continue;
		if (argc != cmds[i].nargs + 1)
			usage();
		timed(cmds[i].fn, argv + 1);
		return 0;
	}
	usage();
	return 2;
}
