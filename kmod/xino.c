// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: xino, the translation of branch inode numbers to union inode
 * numbers, kept in a file so that a union number stays the same for the
 * life of that file: across cache drops, copy-up and remounts.
 *
 * In memory each branch has an xarray: branch inode number -> (union
 * number, branch inode generation).  Lookups read it without locks; a new
 * number is handed out under cpa_xino.lock and the record that says so is
 * queued for the file.  A work item appends the queued records, so callers
 * never write to a branch filesystem themselves: they may hold its freeze
 * protection already (copy-up), and the file must not be limited by the
 * caller's RLIMIT_FSIZE.  It runs a little after the first record is
 * queued (sooner once a batch is large), so that a readdir or a tree walk
 * that meets thousands of new names writes them in a few appends rather
 * than one each.  syncfs and unmount wait for the queue and sync the file.
 *
 * The file, all little-endian, records aligned to 32 bytes:
 *
 *   header, 64 bytes at offset 0
 *	0  magic	"cppaxino"
 *	8  __le32	version (1)
 *	12 __le32	header size (64): the first record's offset
 *	16 __le32	record unit (32)
 *	20 __le32	crc32 of the 64 header bytes, this field zero
 *	24		zero
 *
 *   every record starts with
 *	0  __le32	crc32 of the record's bytes 4.., seeded with ~0
 *	4  __le16	type
 *	6  __le16	length in 32-byte units
 *	8  __le32	slot: the branch the record is about
 *
 *   type 1, branch, 64 bytes: gives a branch a slot number
 *	12 __le32	generation of the branch root directory
 *	16 __le64	inode number of the branch root directory
 *	24 __le32	s_magic of the branch filesystem
 *	28		zero
 *	32 u8[16]	s_uuid of the branch filesystem
 *	48		zero
 *
 *   type 2, map, 32 bytes: inode (h_ino, h_gen) of the branch in slot is
 *   union inode ino
 *	12 __le32	h_gen, 0 when unknown (seen by readdir only)
 *	16 __le64	h_ino
 *	24 __le64	ino
 *
 * A branch is recognised by its filesystem's uuid, its root directory's
 * inode number and generation and the filesystem magic, not by its place in
 * the mount or its path: reordered, renamed or moved branches keep their
 * numbers.  Filesystems without a uuid (tmpfs) are told apart by the root's
 * random generation; tmpfs loses its content at reboot anyway.
 *
 * Loading reads the file once: a later map record of the same branch inode
 * replaces an earlier one, and the next free number is one above the
 * highest ever recorded, whatever branch it belongs to, so no number is
 * handed out twice for the life of the file.  Units of zeros (space a crash
 * allocated but never wrote) and records with a bad checksum are skipped,
 * the latter with a warning; an incomplete record at the end is ignored and
 * overwritten by the next append.  The file only grows.
 *
 * A branch inode number that comes back with another generation belongs to
 * a new file (the old one was removed behind the union's back): it gets a
 * new union number.  Branch filesystems are expected to hand out a new
 * generation when they reuse an inode number (ext4, xfs, btrfs and tmpfs
 * do).  Union numbers are at most 2^31 - 1 per xino file.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/mm.h>
#include <linux/crc32.h>
#include <linux/uuid.h>
#include <linux/list.h>
#include <linux/workqueue.h>
#include "cppaufs.h"

#define CPA_XINO_MAGIC		"cppaxino"
#define CPA_XINO_VERSION	1
#define CPA_XINO_HDR_SIZE	64
#define CPA_XINO_UNIT		32
#define CPA_XINO_T_BRANCH	1
#define CPA_XINO_T_MAP		2
/* Union numbers are packed with a 32-bit generation in an xarray value. */
#define CPA_XINO_INO_MAX	((1UL << 31) - 1)
#define CPA_XINO_NO_SLOT	U32_MAX
/* Bytes read from the file at a time when loading. */
/* The queue is written this long after its first record... */
#define CPA_XINO_DELAY		(HZ / 2)
/* ...or as soon as it holds this many bytes. */
#define CPA_XINO_BATCH		(64 * 1024)
#define CPA_XINO_CHUNK		(64 * 1024)

struct cpa_xino_hdr {
	char magic[8];
	__le32 version;
	__le32 hdr_size;
	__le32 unit;
	__le32 csum;
	u8 zero[40];
};

struct cpa_xino_rec_head {
	__le32 csum;
	__le16 type;
	__le16 units;
	__le32 slot;
};

struct cpa_xino_rec_branch {
	struct cpa_xino_rec_head head;
	__le32 root_gen;
	__le64 root_ino;
	__le32 s_magic;
	__le32 zero;
	u8 uuid[16];
	u8 zero2[16];
};

struct cpa_xino_rec_map {
	struct cpa_xino_rec_head head;
	__le32 h_gen;
	__le64 h_ino;
	__le64 ino;
};

static_assert(sizeof(struct cpa_xino_hdr) == CPA_XINO_HDR_SIZE);
static_assert(sizeof(struct cpa_xino_rec_head) == 12);
static_assert(sizeof(struct cpa_xino_rec_branch) == 2 * CPA_XINO_UNIT);
static_assert(sizeof(struct cpa_xino_rec_map) == CPA_XINO_UNIT);

/* What identifies a branch across mounts. */
struct cpa_xino_brkey {
	uuid_t uuid;
	u64 root_ino;
	u32 root_gen;
	u32 s_magic;
};

/* Per mount (cpa_sb_info.xino), also without a file. */
struct cpa_xino {
	/*
	 * Serialises handing out numbers: the slow path of every map update,
	 * sbi->next_ino, and the queue (pend*).
	 */
	struct mutex lock;
	struct cpa_sb_info *sbi;
	struct file *file;		/* NULL: numbers live in memory only */
	struct inode *inode;		/* file_inode(file) */
	struct list_head in_use;	/* on cpa_xino_files */
	char *pend;			/* records waiting for the file */
	size_t pend_len, pend_cap;
	struct delayed_work work;	/* appends pend to the file */
	loff_t pos;			/* where the next record goes */
	int err;			/* first write error, reported once */
	atomic_t unsynced;		/* records written since the last sync */
};

/* xino files in use by a mount: one mount per file. */
static LIST_HEAD(cpa_xino_files);
static DEFINE_MUTEX(cpa_xino_files_lock);

static u32 cpa_xino_csum(const void *p, size_t len)
{
	return crc32_le(~0U, p, len);
}

static void *cpa_xino_pack(unsigned long ino, u32 gen)
{
	return xa_mk_value((ino << 32) | gen);
}

static void cpa_xino_unpack(void *entry, unsigned long *ino, u32 *gen)
{
	unsigned long v = xa_to_value(entry);

	*ino = v >> 32;
	*gen = (u32)v;
}

/* -- the queue and the writer ------------------------------------------- */

/* Write @len bytes at xi->pos; a short write leaves pos on a unit boundary. */
static int cpa_xino_write(struct cpa_xino *xi, const void *buf, size_t len)
{
	const struct cred *old;
	loff_t pos = xi->pos;
	ssize_t n;
	int err = 0;

	old = override_creds(xi->sbi->creator_cred);
	while (len) {
		n = kernel_write(xi->file, buf, len, &pos);
		if (n <= 0) {
			err = n ? n : -EIO;
			break;
		}
		buf += n;
		len -= n;
	}
	cpa_revert_creds(old);
	/* The unit left torn is skipped at load (bad checksum). */
	xi->pos = round_up(pos, CPA_XINO_UNIT);
	return err;
}

/* Append what is queued.  Runs in the work item, or at unmount. */
static void cpa_xino_drain(struct cpa_xino *xi)
{
	size_t len;
	char *buf;
	int err;

	mutex_lock(&xi->lock);
	buf = xi->pend;
	len = xi->pend_len;
	xi->pend = NULL;
	xi->pend_len = 0;
	xi->pend_cap = 0;
	mutex_unlock(&xi->lock);
	if (!buf)
		return;

	err = cpa_xino_write(xi, buf, len);
	kvfree(buf);
	atomic_set(&xi->unsynced, 1);
	if (err && !xi->err) {
		xi->err = err;
		pr_err("xino %s: write error %d: new inode numbers will not survive a remount\n",
		       xi->sbi->xino_path, err);
	}
}

static void cpa_xino_work(struct work_struct *work)
{
	cpa_xino_drain(container_of(to_delayed_work(work), struct cpa_xino,
				    work));
}

/* Make room for @len more queued bytes.  Caller holds xi->lock. */
static int cpa_xino_reserve(struct cpa_xino *xi, size_t len)
{
	size_t cap;
	char *p;

	lockdep_assert_held(&xi->lock);
	if (!xi->file || xi->pend_len + len <= xi->pend_cap)
		return 0;
	cap = max_t(size_t, PAGE_SIZE, 2 * xi->pend_cap);
	p = kvmalloc(cap, GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	if (xi->pend) {
		memcpy(p, xi->pend, xi->pend_len);
		kvfree(xi->pend);
	}
	xi->pend = p;
	xi->pend_cap = cap;
	return 0;
}

/* Queue a record; room was reserved.  Caller holds xi->lock. */
static void cpa_xino_emit(struct cpa_xino *xi, void *rec, size_t len)
{
	struct cpa_xino_rec_head *h = rec;

	lockdep_assert_held(&xi->lock);
	if (!xi->file)
		return;
	h->csum = cpu_to_le32(cpa_xino_csum(rec + sizeof(h->csum),
					    len - sizeof(h->csum)));
	memcpy(xi->pend + xi->pend_len, rec, len);
	if (!xi->pend_len)
		schedule_delayed_work(&xi->work, CPA_XINO_DELAY);
	xi->pend_len += len;
	if (xi->pend_len >= CPA_XINO_BATCH &&
	    xi->pend_len - len < CPA_XINO_BATCH)
		mod_delayed_work(cpa_system_wq, &xi->work, 0);
}

/* -- numbers -------------------------------------------------------------- */

/*
 * Record that inode (@h_ino, @gen) of branch @br is union inode @ino,
 * in memory and in the file.  Caller holds xi->lock.
 */
static int cpa_xino_store(struct cpa_xino *xi, struct cpa_branch *br,
			  u64 h_ino, u32 gen, unsigned long ino)
{
	struct cpa_xino_rec_map rec = {
		.head.type	= cpu_to_le16(CPA_XINO_T_MAP),
		.head.units	= cpu_to_le16(1),
		.head.slot	= cpu_to_le32(br->xino_slot),
		.h_gen		= cpu_to_le32(gen),
		.h_ino		= cpu_to_le64(h_ino),
		.ino		= cpu_to_le64(ino),
	};
	int err;

	err = cpa_xino_reserve(xi, sizeof(rec));
	if (err)
		return err;
	err = xa_err(xa_store(&br->xino, h_ino, cpa_xino_pack(ino, gen),
			      GFP_KERNEL));
	if (err)
		return err;
	cpa_xino_emit(xi, &rec, sizeof(rec));
	return 0;
}

static bool cpa_xino_is_root(struct cpa_sb_info *sbi, struct cpa_branch *br,
			     u64 h_ino)
{
	return br == sbi->top && h_ino == d_inode(br->path.dentry)->i_ino;
}

/*
 * A generation of 0 is unknown (readdir saw the inode number only, or the
 * branch filesystem has no generations): it matches any.
 */
static bool cpa_xino_gen_match(u32 stored, u32 gen)
{
	return stored == gen || !stored || !gen;
}

static int cpa_xino_get(struct super_block *sb, struct cpa_branch *br,
			u64 h_ino, u32 gen, unsigned long *ino)
{
	struct cpa_sb_info *sbi = CPA_SB(sb);
	struct cpa_xino *xi = sbi->xino;
	struct xarray *xa = &br->xino;
	unsigned long fresh;
	void *entry;
	u32 sgen;
	int err;

	if (cpa_xino_is_root(sbi, br, h_ino)) {
		*ino = CPA_ROOT_INO;
		return 0;
	}

	entry = xa_load(xa, h_ino);
	if (entry) {
		cpa_xino_unpack(entry, ino, &sgen);
		if (sgen == gen || (sgen && !gen))
			return 0;
	}

	mutex_lock(&xi->lock);
	entry = xa_load(xa, h_ino);
	if (entry) {
		cpa_xino_unpack(entry, ino, &sgen);
		err = 0;
		if (!cpa_xino_gen_match(sgen, gen))
			goto fresh;
		/* Learn the generation that readdir could not see. */
		if (!sgen && gen)
			err = cpa_xino_store(xi, br, h_ino, gen, *ino);
		goto unlock;
	}
fresh:
	fresh = atomic64_inc_return(&sbi->next_ino) - 1;
	if (fresh > CPA_XINO_INO_MAX) {
		pr_err_ratelimited("xino: out of union inode numbers\n");
		err = -EOVERFLOW;
		goto unlock;
	}
	err = cpa_xino_store(xi, br, h_ino, gen, fresh);
	if (!err)
		*ino = fresh;
unlock:
	mutex_unlock(&xi->lock);
	return err;
}

/*
 * Union inode number of the branch inode @h_inode of branch @br,
 * handed out on first use.  The root directory of the top branch is always
 * CPA_ROOT_INO.  An inode number seen before with another generation is a
 * new file: it gets a new number.
 */
int cpa_xino_ino(struct super_block *sb, struct cpa_branch *br,
		 const struct inode *h_inode, unsigned long *ino)
{
	return cpa_xino_get(sb, br, h_inode->i_ino, h_inode->i_generation,
			    ino);
}

/*
 * The union inode number the branch inode @h_inode of branch @br has
 * already, if any: 0, or -ENOENT without handing one out.
 */
int cpa_xino_find(struct super_block *sb, struct cpa_branch *br,
		  const struct inode *h_inode, unsigned long *ino)
{
	void *entry;
	u32 sgen;

	if (cpa_xino_is_root(CPA_SB(sb), br, h_inode->i_ino)) {
		*ino = CPA_ROOT_INO;
		return 0;
	}
	entry = xa_load(&br->xino, h_inode->i_ino);
	if (!entry)
		return -ENOENT;
	cpa_xino_unpack(entry, ino, &sgen);
	return cpa_xino_gen_match(sgen, h_inode->i_generation) ? 0 : -ENOENT;
}

/* The same from an inode number alone, as readdir has: any generation. */
int cpa_xino_ino_nogen(struct super_block *sb, struct cpa_branch *br,
		       u64 h_ino, unsigned long *ino)
{
	return cpa_xino_get(sb, br, h_ino, 0, ino);
}

/*
 * From now on the branch inode @h_inode of branch @br is union inode
 * @ino: copy-up, link and rename keep a number this way.
 */
int cpa_xino_set(struct super_block *sb, struct cpa_branch *br,
		 const struct inode *h_inode, unsigned long ino)
{
	struct cpa_sb_info *sbi = CPA_SB(sb);
	struct cpa_xino *xi = sbi->xino;
	u32 gen = h_inode->i_generation;
	unsigned long cur;
	void *entry;
	u32 sgen;
	int err;

	if (WARN_ON_ONCE(ino > CPA_XINO_INO_MAX))
		return -EOVERFLOW;
	if (cpa_xino_is_root(sbi, br, h_inode->i_ino))
		return 0;
	mutex_lock(&xi->lock);
	entry = xa_load(&br->xino, h_inode->i_ino);
	if (entry) {
		cpa_xino_unpack(entry, &cur, &sgen);
		if (cur == ino && sgen == gen) {
			mutex_unlock(&xi->lock);
			return 0;
		}
	}
	err = cpa_xino_store(xi, br, h_inode->i_ino, gen, ino);
	/* A number from elsewhere must never be handed out again. */
	if (!err && atomic64_read(&sbi->next_ino) <= ino)
		atomic64_set(&sbi->next_ino, ino + 1);
	mutex_unlock(&xi->lock);
	return err;
}

/* Is the branch dentry @h_dentry the xino file (or a hard link to it)? */
bool cpa_xino_is_file(struct super_block *sb, struct dentry *h_dentry)
{
	struct cpa_xino *xi = CPA_SB(sb)->xino;

	return xi && xi->inode && d_really_is_positive(h_dentry) &&
	       d_inode(h_dentry) == xi->inode;
}

/*
 * Is the entry numbered @h_ino that readdir found in the branch directory
 * @h_dir the xino file?
 */
bool cpa_xino_is_dirent(struct super_block *sb, const struct dentry *h_dir,
			u64 h_ino)
{
	struct cpa_xino *xi = CPA_SB(sb)->xino;

	return xi && xi->inode && h_ino == xi->inode->i_ino &&
	       h_dir->d_sb == xi->inode->i_sb;
}

/* Queue the xino file for writeback and wait for it (syncfs). */
int cpa_xino_sync(struct super_block *sb)
{
	struct cpa_xino *xi = CPA_SB(sb)->xino;
	const struct cred *old;
	int err;

	if (!xi || !xi->file)
		return 0;
	flush_delayed_work(&xi->work);
	atomic_set(&xi->unsynced, 0);
	old = cpa_override_creds(sb);
	err = vfs_fsync(xi->file, 1);
	cpa_revert_creds(old);
	if (err)
		atomic_set(&xi->unsynced, 1);
	return err;
}

/*
 * fsync(2) of a union file or directory: the union inode numbers handed out
 * so far must outlive a crash as the data does, or a file fsync'd before a
 * power cut would come back with another number.  Write what is queued,
 * and sync the xino file when records reached it since it was last synced:
 * an fsync that hands out no new number costs nothing more.
 */
int cpa_xino_fsync(struct super_block *sb)
{
	struct cpa_xino *xi = CPA_SB(sb)->xino;

	if (!xi || !xi->file)
		return 0;
	flush_delayed_work(&xi->work);
	if (!atomic_read(&xi->unsynced))
		return 0;
	return cpa_xino_sync(sb);
}

/* -- opening and loading -------------------------------------------------- */

static void cpa_xino_brkey(const struct cpa_branch *br,
			   struct cpa_xino_brkey *key)
{
	const struct inode *root = d_inode(br->path.dentry);

	memset(key, 0, sizeof(*key));
	uuid_copy(&key->uuid, &root->i_sb->s_uuid);
	key->root_ino = root->i_ino;
	key->root_gen = root->i_generation;
	key->s_magic = root->i_sb->s_magic;
}

/* State of one load. */
struct cpa_xino_load {
	struct cpa_brtable *brt;	/* the branches being loaded */
	struct cpa_xino_brkey *keys;	/* [brt->nbranch] */
	struct xarray slots;		/* slot -> index in brt */
	u32 nslots;			/* one above the highest slot seen */
	unsigned long max_ino;		/* highest union number seen */
	unsigned long bad;		/* records skipped */
};

static void cpa_xino_load_branch(struct cpa_xino *xi, struct cpa_xino_load *ld,
				 const struct cpa_xino_rec_branch *rec)
{
	struct cpa_xino_brkey key = {};
	u32 slot = le32_to_cpu(rec->head.slot);
	int i;

	if (slot == CPA_XINO_NO_SLOT) {
		ld->bad++;
		return;
	}
	ld->nslots = max(ld->nslots, slot + 1);
	memcpy(&key.uuid, rec->uuid, sizeof(key.uuid));
	key.root_ino = le64_to_cpu(rec->root_ino);
	key.root_gen = le32_to_cpu(rec->root_gen);
	key.s_magic = le32_to_cpu(rec->s_magic);
	if (xa_load(&ld->slots, slot))
		return;		/* given twice: the first one counts */
	for (i = 0; i < ld->brt->nbranch; i++) {
		struct cpa_branch *br = ld->brt->br[i];

		if (br->xino_slot != CPA_XINO_NO_SLOT ||
		    memcmp(&ld->keys[i], &key, sizeof(key)))
			continue;
		/* Not fatal if it fails: the branch gets a new slot. */
		if (!xa_err(xa_store(&ld->slots, slot, xa_mk_value(i),
				     GFP_KERNEL)))
			br->xino_slot = slot;
		return;
	}
}

static int cpa_xino_load_map(struct cpa_xino *xi, struct cpa_xino_load *ld,
			     const struct cpa_xino_rec_map *rec)
{
	u32 slot = le32_to_cpu(rec->head.slot);
	u64 h_ino = le64_to_cpu(rec->h_ino);
	u64 ino = le64_to_cpu(rec->ino);
	struct cpa_branch *br;
	void *entry;

	if (ino < CPA_FIRST_INO || ino > CPA_XINO_INO_MAX) {
		ld->bad++;
		return 0;
	}
	ld->max_ino = max_t(unsigned long, ld->max_ino, ino);
	entry = xa_load(&ld->slots, slot);
	if (!entry)
		return 0;	/* a branch that is not in this mount */
	br = ld->brt->br[xa_to_value(entry)];
	return xa_err(xa_store(&br->xino, h_ino,
			       cpa_xino_pack(ino, le32_to_cpu(rec->h_gen)),
			       GFP_KERNEL));
}

/*
 * Parse the records in @buf[0, @len).  Returns how many bytes it used: the
 * rest is an incomplete record that needs more data.
 */
static ssize_t cpa_xino_parse(struct cpa_xino *xi, struct cpa_xino_load *ld,
			      const char *buf, size_t len)
{
	size_t off = 0;
	int err;

	while (len - off >= CPA_XINO_UNIT) {
		const struct cpa_xino_rec_head *h = (const void *)(buf + off);
		size_t rlen = le16_to_cpu(h->units) * CPA_XINO_UNIT;
		u16 type = le16_to_cpu(h->type);

		/* Zeros: space a crash allocated but never wrote. */
		if (!memchr_inv(h, 0, CPA_XINO_UNIT)) {
			off += CPA_XINO_UNIT;
			continue;
		}
		if (!rlen || rlen > sizeof(struct cpa_xino_rec_branch)) {
			ld->bad++;
			off += CPA_XINO_UNIT;
			continue;
		}
		if (len - off < rlen)
			break;
		if (le32_to_cpu(h->csum) !=
		    cpa_xino_csum(buf + off + sizeof(h->csum),
				  rlen - sizeof(h->csum))) {
			ld->bad++;
			off += CPA_XINO_UNIT;
			continue;
		}
		err = 0;
		if (type == CPA_XINO_T_BRANCH && rlen == 2 * CPA_XINO_UNIT)
			cpa_xino_load_branch(xi, ld, (const void *)h);
		else if (type == CPA_XINO_T_MAP && rlen == CPA_XINO_UNIT)
			err = cpa_xino_load_map(xi, ld, (const void *)h);
		else
			ld->bad++;
		if (err)
			return err;
		off += rlen;
	}
	return off;
}

static void cpa_xino_hdr_init(struct cpa_xino_hdr *hdr)
{
	memset(hdr, 0, sizeof(*hdr));
	memcpy(hdr->magic, CPA_XINO_MAGIC, sizeof(hdr->magic));
	hdr->version = cpu_to_le32(CPA_XINO_VERSION);
	hdr->hdr_size = cpu_to_le32(CPA_XINO_HDR_SIZE);
	hdr->unit = cpu_to_le32(CPA_XINO_UNIT);
	hdr->csum = cpu_to_le32(cpa_xino_csum(hdr, sizeof(*hdr)));
}

/*
 * Check the header; an empty file, or one whose header is all zeros (a
 * crash right after creating it), is started afresh.
 */
static int cpa_xino_hdr_check(struct cpa_xino *xi, struct fs_context *fc,
			      const char *path)
{
	struct cpa_xino_hdr hdr;
	loff_t pos = 0, size = i_size_read(xi->inode);
	ssize_t n = 0;
	u32 csum;
	int err;

	if (size) {
		n = kernel_read(xi->file, &hdr, sizeof(hdr), &pos);
		if (n < 0)
			return cpa_invalf(fc, "xino: %s: read error %zd", path,
					  n);
	}
	if (!n || !memchr_inv(&hdr, 0, n)) {
		if (size) {
			err = vfs_truncate(&xi->file->f_path, 0);
			if (err)
				return cpa_invalf(fc,
					"xino: %s: cannot truncate (error %d)",
					path, err);
		}
		cpa_xino_hdr_init(&hdr);
		xi->pos = 0;
		err = cpa_xino_write(xi, &hdr, sizeof(hdr));
		if (err)
			return cpa_invalf(fc, "xino: %s: write error %d", path,
					  err);
		return 0;
	}
	if (n < sizeof(hdr) || memcmp(hdr.magic, CPA_XINO_MAGIC,
				      sizeof(hdr.magic)))
		return cpa_invalf(fc,
			"xino: %s: not a cppaufs xino file (remove it or choose another)",
			path);
	if (le32_to_cpu(hdr.version) != CPA_XINO_VERSION)
		return cpa_invalf(fc, "xino: %s: unsupported version %u", path,
				  le32_to_cpu(hdr.version));
	csum = le32_to_cpu(hdr.csum);
	hdr.csum = 0;
	if (csum != cpa_xino_csum(&hdr, sizeof(hdr)) ||
	    le32_to_cpu(hdr.hdr_size) != CPA_XINO_HDR_SIZE ||
	    le32_to_cpu(hdr.unit) != CPA_XINO_UNIT)
		return cpa_invalf(fc, "xino: %s: corrupt header", path);
	xi->pos = CPA_XINO_HDR_SIZE;
	return 0;
}

/* Read every record; *@end is after the last complete one. */
static int cpa_xino_read(struct cpa_xino *xi, struct fs_context *fc,
			 const char *path, struct cpa_xino_load *ld,
			 loff_t *end)
{
	loff_t pos = CPA_XINO_HDR_SIZE;
	size_t have = 0;
	ssize_t n, used;
	char *buf;
	int err = 0;

	buf = kvmalloc(CPA_XINO_CHUNK, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = kernel_read(xi->file, buf + have, CPA_XINO_CHUNK - have,
				&pos);
		if (n < 0) {
			err = cpa_invalf(fc, "xino: %s: read error %zd", path,
					 n);
			break;
		}
		have += n;
		used = cpa_xino_parse(xi, ld, buf, have);
		if (used < 0) {
			err = used;
			break;
		}
		memmove(buf, buf + used, have - used);
		have -= used;
		if (!n)
			break;
		cond_resched();
	}
	kvfree(buf);
	*end = pos - have;
	return err;
}

/* Give the branches that the file does not know yet a slot. */
static int cpa_xino_add_branches(struct cpa_xino *xi, struct cpa_xino_load *ld)
{
	int i, err = 0;

	for (i = 0; i < ld->brt->nbranch; i++) {
		struct cpa_branch *br = ld->brt->br[i];
		struct cpa_xino_brkey *key = &ld->keys[i];
		struct cpa_xino_rec_branch rec = {
			.head.type	= cpu_to_le16(CPA_XINO_T_BRANCH),
			.head.units	= cpu_to_le16(2),
			.root_gen	= cpu_to_le32(key->root_gen),
			.root_ino	= cpu_to_le64(key->root_ino),
			.s_magic	= cpu_to_le32(key->s_magic),
		};

		if (br->xino_slot != CPA_XINO_NO_SLOT)
			continue;
		if (ld->nslots == CPA_XINO_NO_SLOT)
			return -EOVERFLOW;
		br->xino_slot = ld->nslots++;
		rec.head.slot = cpu_to_le32(br->xino_slot);
		memcpy(rec.uuid, &key->uuid, sizeof(rec.uuid));
		mutex_lock(&xi->lock);
		err = cpa_xino_reserve(xi, sizeof(rec));
		if (!err)
			cpa_xino_emit(xi, &rec, sizeof(rec));
		mutex_unlock(&xi->lock);
		if (err)
			return err;
	}
	return 0;
}

static int cpa_xino_load(struct cpa_xino *xi, struct fs_context *fc,
			 const char *path)
{
	struct cpa_sb_info *sbi = xi->sbi;
	struct cpa_xino_load ld = {};
	loff_t end;
	int i, err;

	ld.brt = cpa_brt(sbi);
	ld.keys = kvcalloc(ld.brt->nbranch, sizeof(*ld.keys), GFP_KERNEL);
	if (!ld.keys)
		return -ENOMEM;
	xa_init(&ld.slots);
	for (i = 0; i < ld.brt->nbranch; i++)
		cpa_xino_brkey(ld.brt->br[i], &ld.keys[i]);

	err = cpa_xino_hdr_check(xi, fc, path);
	if (!err) {
		err = cpa_xino_read(xi, fc, path, &ld, &end);
		/* A torn last record: the next append replaces it. */
		xi->pos = end;
	}
	if (!err)
		err = cpa_xino_add_branches(xi, &ld);
	if (!err) {
		if (ld.bad)
			pr_warn("xino %s: skipped %lu damaged records\n", path,
				ld.bad);
		if (ld.max_ino >= CPA_FIRST_INO)
			atomic64_set(&sbi->next_ino, ld.max_ino + 1);
	}
	xa_destroy(&ld.slots);
	kvfree(ld.keys);
	return err;
}

/*
 * A branch joins a mounted union (brops.c): find its slot and its numbers
 * in the file, or give it a slot.  The branch is not in the table yet, so
 * nothing appended meanwhile is about it, and branch records are written
 * under the branch lock only: the file is read as far as it goes, without
 * the queue's lock.
 */
int cpa_xino_add_branch(struct fs_context *fc, struct cpa_sb_info *sbi,
			struct cpa_branch *br)
{
	struct cpa_xino *xi = sbi->xino;
	struct cpa_xino_load ld = {};
	struct cpa_brtable *one;
	loff_t end;
	int err;

	br->xino_slot = CPA_XINO_NO_SLOT;
	if (!xi || !xi->file)
		return 0;
	one = cpa_brtable_alloc(1);
	ld.keys = kvcalloc(1, sizeof(*ld.keys), GFP_KERNEL);
	if (!one || !ld.keys) {
		err = -ENOMEM;
		goto out;
	}
	one->br[0] = br;
	ld.brt = one;
	xa_init(&ld.slots);
	cpa_xino_brkey(br, &ld.keys[0]);
	err = cpa_xino_read(xi, fc, sbi->xino_path, &ld, &end);
	if (!err)
		err = cpa_xino_add_branches(xi, &ld);
	xa_destroy(&ld.slots);
	if (err)
		xa_destroy(&br->xino);
out:
	kvfree(ld.keys);
	kfree(one);
	return err;
}

static int cpa_xino_open_error(struct fs_context *fc, const char *path,
			       int err)
{
	switch (err) {
	case -ENOENT:
		return cpa_invalf(fc, "xino: %s: no such directory", path);
	case -ENOTDIR:
		return cpa_invalf(fc, "xino: %s: a path component is not a directory",
				  path);
	case -EISDIR:
		return cpa_invalf(fc, "xino: %s: is a directory", path);
	case -EROFS:
		return cpa_invalf(fc, "xino: %s: read-only file system", path);
	case -EACCES:
	case -EPERM:
		return cpa_invalf(fc, "xino: %s: permission denied", path);
	case -ENOMEM:
		return err;
	default:
		return cpa_invalf(fc, "xino: %s: cannot open (error %d)", path,
				  err);
	}
}

static int cpa_xino_open(struct cpa_xino *xi, struct fs_context *fc,
			 const char *path)
{
	const int flags = O_RDWR | O_CREAT | O_LARGEFILE | O_NONBLOCK;
	const struct cred *old;
	struct path p;
	struct file *file;
	int err;

	old = override_creds(xi->sbi->creator_cred);
	/* Refuse a fifo or a device before opening it has any effect. */
	err = kern_path(path, LOOKUP_FOLLOW, &p);
	if (!err) {
		bool reg = d_is_reg(p.dentry);

		err = d_is_dir(p.dentry) ? -EISDIR : 0;
		path_put(&p);
		if (!err && !reg) {
			cpa_revert_creds(old);
			return cpa_invalf(fc, "xino: %s: not a regular file",
					  path);
		}
	} else if (err == -ENOENT) {
		err = 0;	/* created below */
	}
	file = err ? ERR_PTR(err) : filp_open(path, flags, 0600);
	cpa_revert_creds(old);
	if (IS_ERR(file))
		return cpa_xino_open_error(fc, path, PTR_ERR(file));

	xi->file = file;
	xi->inode = file_inode(file);
	if (!S_ISREG(xi->inode->i_mode))
		return cpa_invalf(fc, "xino: %s: not a regular file", path);
	if (xi->inode->i_sb->s_type == &cpa_fs_type)
		return cpa_invalf(fc, "xino: %s: is on a cppaufs mount", path);
	if (!(file->f_mode & FMODE_CAN_READ) ||
	    !(file->f_mode & FMODE_CAN_WRITE))
		return cpa_invalf(fc, "xino: %s: file system cannot read and write it",
				  path);
	/* O_NONBLOCK only kept a fifo from blocking the open. */
	file->f_flags &= ~O_NONBLOCK;
	return 0;
}

/* Claim the file for this mount: two mounts would hand out one number. */
static int cpa_xino_claim(struct cpa_xino *xi, struct fs_context *fc,
			  const char *path)
{
	struct cpa_xino *other;
	int err = 0;

	mutex_lock(&cpa_xino_files_lock);
	list_for_each_entry(other, &cpa_xino_files, in_use) {
		if (other->inode == xi->inode) {
			err = cpa_invalf(fc,
				"xino: %s: in use by another cppaufs mount (use xino=<file> or noxino)",
				path);
			break;
		}
	}
	if (!err)
		list_add(&xi->in_use, &cpa_xino_files);
	mutex_unlock(&cpa_xino_files_lock);
	return err;
}

/* Absolute path of the open xino file, for sysfs xi_path. */
static char *cpa_xino_name(struct cpa_xino *xi, const char *given)
{
	char *buf, *p, *name;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return NULL;
	p = d_path(&xi->file->f_path, buf, PATH_MAX);
	name = kstrdup(IS_ERR(p) ? given : p, GFP_KERNEL);
	kfree(buf);
	return name;
}

static void cpa_xino_free(struct cpa_xino *xi)
{
	if (xi->file) {
		cancel_delayed_work_sync(&xi->work);
		if (!list_empty(&xi->in_use)) {
			mutex_lock(&cpa_xino_files_lock);
			list_del(&xi->in_use);
			mutex_unlock(&cpa_xino_files_lock);
		}
		fput(xi->file);
	}
	kvfree(xi->pend);
	kfree(xi);
}

/*
 * Set up xino for a new mount: the file given by xino=, none with noxino,
 * else <first writable branch>/.aufs.xino, else none.  A file that cannot be
 * used fails the mount with a reason in @fc's log.
 */
int cpa_xino_init(struct cpa_sb_info *sbi, struct fs_context *fc)
{
	struct cpa_fs_context *ctx = fc->fs_private;
	struct cpa_brtable *brt = cpa_brt(sbi);
	struct cpa_xino *xi;
	char *dflt = NULL;
	const char *path;
	int i, err;

	BUILD_BUG_ON(BITS_PER_LONG < 64);
	xi = kzalloc(sizeof(*xi), GFP_KERNEL);
	if (!xi)
		return -ENOMEM;
	mutex_init(&xi->lock);
	INIT_LIST_HEAD(&xi->in_use);
	INIT_DELAYED_WORK(&xi->work, cpa_xino_work);
	xi->sbi = sbi;
	for (i = 0; i < brt->nbranch; i++)
		brt->br[i]->xino_slot = CPA_XINO_NO_SLOT;

	path = ctx->xino_path;
	if (!path && !ctx->noxino && brt->rw_index >= 0) {
		struct cpa_branch *rw = brt->br[brt->rw_index];

		dflt = kasprintf(GFP_KERNEL, "%s%s%s", rw->name,
				 strcmp(rw->name, "/") ? "/" : "",
				 CPPAUFS_XINO_NAME);
		if (!dflt) {
			err = -ENOMEM;
			goto out_free;
		}
		path = dflt;
	}
	if (!path || ctx->noxino) {
		sbi->xino = xi;
		return 0;
	}

	err = cpa_xino_open(xi, fc, path);
	if (!err)
		err = cpa_xino_claim(xi, fc, path);
	if (!err) {
		sbi->xino_path = cpa_xino_name(xi, path);
		if (!sbi->xino_path)
			err = -ENOMEM;
	}
	if (!err)
		err = cpa_xino_load(xi, fc, path);
	if (err)
		goto out_free;
	kfree(dflt);
	sbi->xino = xi;
	return 0;

out_free:
	/* Nothing was queued that a failed mount needs to keep. */
	kfree(sbi->xino_path);
	sbi->xino_path = NULL;
	kfree(dflt);
	cpa_xino_free(xi);
	return err;
}

void cpa_xino_fini(struct cpa_sb_info *sbi)
{
	struct cpa_xino *xi = sbi->xino;
	const struct cred *old;

	if (!xi)
		return;
	sbi->xino = NULL;
	if (xi->file) {
		flush_delayed_work(&xi->work);
		cpa_xino_drain(xi);
		old = override_creds(sbi->creator_cred);
		vfs_fsync(xi->file, 0);
		cpa_revert_creds(old);
	}
	cpa_xino_free(xi);
}
