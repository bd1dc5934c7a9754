/*
 * /init of the kexec-file-kernel guest (loadertruth/kexec_file_kernel.py).
 *
 * Runs as PID 1 in an initramfs, reads /job, rebuilds each test image in a memfd
 * from a base file and a few patches, and calls kexec_file_load(2) on it, in normal
 * and/or crash mode (KEXEC_FILE_ON_CRASH), unloading (KEXEC_FILE_UNLOAD) after every
 * successful load. The loaded kernel is never executed. Then it powers the machine off.
 *
 * Written from kexec_file_load(2), memfd_create(2), the uapi <linux/kexec.h> flags and
 * Documentation/ABI/testing/dev-kmsg; no kernel code.
 *
 * /job (text, one record a line):
 *   cmdline <text to pass, rest of the line>
 *   modes <normal|crash>...
 *   base <k> <path>          a base file in the initramfs (format below)
 *   img <id> <k> <size> <npatch>
 *   p <offset> <hex bytes>   npatch of these follow each img line
 *   end
 * A base file: "KBAS", u32 0, u64 size, u64 nextents, then nextents times
 * (u64 offset, u64 length, length bytes), little-endian; everything else is zeros.
 *
 * Console output (one line per event, parsed by the harness):
 *   KFL-INFO <key> <value>
 *   KFL <id> <mode> <rc> <errno name> <errno number> <microseconds>
 *   KFL-UNLOAD <id> <mode> <rc> <errno name> <errno number>
 *   KFL-KMSG <id> <mode> <priority> <text>     kernel log lines printed during the load
 *   KFL-ERR <id> <text>                        the guest could not rebuild the image
 *   KFL-END <count>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kexec.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_BASES 64

struct extent {
	uint64_t off, len;
	const unsigned char *data;
};

struct base {
	int used;
	uint64_t size;
	uint64_t n;
	struct extent *ext;
	unsigned char *raw;
};

static struct base bases[MAX_BASES];
static int kmsg_fd = -1;
static int kmsg_wfd = -1;
#define KMSG_SYNC "kfl-sync"

static void die(const char *what)
{
	printf("KFL-FATAL %s: %s\n", what, strerror(errno));
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static int load_base(int k, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	unsigned char *raw = malloc(st.st_size ? st.st_size : 1);
	if (!raw)
		return -1;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, raw + got, st.st_size - got);
		if (r <= 0) {
			close(fd);
			free(raw);
			return -1;
		}
		got += r;
	}
	close(fd);
	if (got < 24 || memcmp(raw, "KBAS", 4) != 0) {
		free(raw);
		errno = EINVAL;
		return -1;
	}
	struct base *b = &bases[k];
	b->raw = raw;
	b->size = le64(raw + 8);
	b->n = le64(raw + 16);
	b->ext = calloc(b->n ? b->n : 1, sizeof(*b->ext));
	size_t pos = 24;
	for (uint64_t i = 0; i < b->n; i++) {
		if (pos + 16 > got)
			goto bad;
		b->ext[i].off = le64(raw + pos);
		b->ext[i].len = le64(raw + pos + 8);
		pos += 16;
		if (b->ext[i].len > got - pos)
			goto bad;
		b->ext[i].data = raw + pos;
		pos += b->ext[i].len;
	}
	b->used = 1;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const unsigned char *p = buf;
	while (len) {
		ssize_t w = pwrite(fd, p, len, off);
		if (w <= 0)
			return -1;
		p += w;
		len -= w;
		off += w;
	}
	return 0;
}

/* Print the kernel log records that appeared since the last call. */
static void drain_kmsg(long id, const char *mode)
{
	char rec[2048];
	if (kmsg_fd < 0)
		return;
	/*
	 * A kernel message without a trailing newline stays open (a continuation line
	 * may follow) and is not readable until the next record is stored: store one.
	 */
	if (kmsg_wfd >= 0 && write(kmsg_wfd, "<7>" KMSG_SYNC "\n", 4 + sizeof(KMSG_SYNC) - 1) < 0)
		printf("KFL-INFO kmsg-write %s\n", strerror(errno));
	for (;;) {
		ssize_t r = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (r < 0) {
			if (errno == EPIPE)
				continue; /* records were overwritten: go on with the next */
			return;   /* EAGAIN: nothing more */
		}
		rec[r] = 0;
		char *semi = strchr(rec, ';');
		if (!semi)
			continue;
		char *nl = strchr(semi + 1, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(semi + 1, KMSG_SYNC, sizeof(KMSG_SYNC) - 1))
			continue;
		int prio = atoi(rec) & 7;
		printf("KFL-KMSG %ld %s %d %s\n", id, mode, prio, semi + 1);
	}
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static long kexec_file(int fd, const char *cmdline, unsigned long flags)
{
	unsigned long len = cmdline ? strlen(cmdline) + 1 : 0;
	return syscall(SYS_kexec_file_load, fd, -1, len, cmdline, flags);
}

int main(void)
{
	static char line[1 << 16];
	char cmdline[1024] = "console=ttyAMA0";
	int modes[2] = {1, 0}; /* normal, crash */
	long count = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mkdir("/dev", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL); /* may fail: /dev is in the cpio */

	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
	kmsg_wfd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	FILE *f = fopen("/proc/sys/kernel/osrelease", "r");
	if (f && fgets(line, sizeof(line), f))
		printf("KFL-INFO osrelease %s", line);
	if (f)
		fclose(f);
	f = fopen("/proc/iomem", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "Crash kernel") || strstr(line, "System RAM"))
			printf("KFL-INFO iomem %s", line);
	if (f)
		fclose(f);
	f = fopen("/sys/kernel/security/lockdown", "r");
	if (f && fgets(line, sizeof(line), f))
		printf("KFL-INFO lockdown %s", line);
	if (f)
		fclose(f);

	FILE *job = fopen("/job", "r");
	if (!job)
		die("open /job");
	long id = -1;
	int k = 0;
	unsigned long long size = 0;
	long npatch = 0;
	int fd = -1;
	int bad = 0;

	while (fgets(line, sizeof(line), job)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "cmdline ", 8)) {
			snprintf(cmdline, sizeof(cmdline), "%.1000s", line + 8);
		} else if (!strncmp(line, "modes", 5)) {
			modes[0] = strstr(line, "normal") != NULL;
			modes[1] = strstr(line, "crash") != NULL;
		} else if (!strncmp(line, "base ", 5)) {
			char path[512];
			if (sscanf(line + 5, "%d %511s", &k, path) != 2 || k < 0 || k >= MAX_BASES)
				die("bad base line");
			if (load_base(k, path) < 0)
				printf("KFL-INFO base-error %d %s %s\n", k, path, strerror(errno));
		} else if (!strncmp(line, "img ", 4)) {
			if (sscanf(line + 4, "%ld %d %llu %ld", &id, &k, &size, &npatch) != 4)
				die("bad img line");
			bad = 0;
			fd = memfd_create("kimage", MFD_CLOEXEC);
			if (fd < 0)
				die("memfd_create");
			if (k < 0 || k >= MAX_BASES || !bases[k].used) {
				printf("KFL-ERR %ld base %d not loaded\n", id, k);
				bad = 1;
			} else if (ftruncate(fd, (off_t)size) < 0) {
				printf("KFL-ERR %ld ftruncate %s\n", id, strerror(errno));
				bad = 1;
			} else {
				struct base *b = &bases[k];
				for (uint64_t i = 0; i < b->n && !bad; i++) {
					uint64_t off = b->ext[i].off, len = b->ext[i].len;
					if (off >= size)
						continue;
					if (len > size - off)
						len = size - off;
					if (pwrite_all(fd, b->ext[i].data, len, off) < 0) {
						printf("KFL-ERR %ld pwrite %s\n", id, strerror(errno));
						bad = 1;
					}
				}
			}
			if (npatch == 0)
				goto run;
		} else if (!strncmp(line, "p ", 2)) {
			unsigned long long off;
			int n;
			if (sscanf(line + 2, "%llu %n", &off, &n) != 1)
				die("bad patch line");
			const char *hex = line + 2 + n;
			size_t hl = strlen(hex);
			unsigned char buf[sizeof(line) / 2];
			size_t bl = 0;
			for (size_t i = 0; i + 1 < hl; i += 2)
				buf[bl++] = (unsigned char)(hexval(hex[i]) << 4 | hexval(hex[i + 1]));
			if (!bad && pwrite_all(fd, buf, bl, (off_t)off) < 0) {
				printf("KFL-ERR %ld patch %s\n", id, strerror(errno));
				bad = 1;
			}
			if (--npatch == 0)
				goto run;
		} else if (!strcmp(line, "end")) {
			break;
		}
		continue;
run:
		if (!bad) {
			/* the rebuilt file must have exactly the size the host asked for */
			struct stat st;
			if (fstat(fd, &st) == 0 && (unsigned long long)st.st_size != size) {
				printf("KFL-ERR %ld size %lld != %llu\n", id, (long long)st.st_size, size);
				bad = 1;
			}
		}
		for (int m = 0; m < 2 && !bad; m++) {
			if (!modes[m])
				continue;
			const char *mode = m ? "crash" : "normal";
			unsigned long flags = KEXEC_FILE_NO_INITRAMFS | (m ? KEXEC_FILE_ON_CRASH : 0);
			struct timespec t0, t1;
			drain_kmsg(-1, "before");
			clock_gettime(CLOCK_MONOTONIC, &t0);
			long rc = kexec_file(fd, cmdline, flags);
			int e = rc < 0 ? errno : 0;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			long us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
			drain_kmsg(id, mode);
			printf("KFL %ld %s %ld %s %d %ld\n", id, mode, rc, e ? errname(e) : "OK", e, us);
			if (rc == 0) {
				unsigned long uf = KEXEC_FILE_UNLOAD | (m ? KEXEC_FILE_ON_CRASH : 0);
				long ur = kexec_file(-1, NULL, uf);
				int ue = ur < 0 ? errno : 0;
				printf("KFL-UNLOAD %ld %s %ld %s %d\n", id, mode, ur, ue ? errname(ue) : "OK",
				       ue);
				drain_kmsg(id, mode);
			}
		}
		close(fd);
		fd = -1;
		count++;
	}
	printf("KFL-END %ld\n", count);
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
