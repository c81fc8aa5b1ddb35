// SPDX-License-Identifier: GPL-2.0
/*
 * cppaufs: xino, the translation of branch inode numbers to union inode
 * numbers, kept in a file so that a union number stays the same for the
 * life of that file: across cache drops, copy-up and remounts.
 *
 * The file (format 2) is an on-disk index read a block at a time, through
 * the page cache: mounting reads the header and the branch slots only,
 * whatever the number of objects the file describes, and the kernel keeps
 * no per-number memory of its own.  All little-endian, in blocks of 4 KiB:
 *
 *   block 0 and block 1: two copies of the header; the valid one with the
 *   highest sequence number counts, and each write goes to the other one
 *	0   magic		"cppaxino"
 *	8   __le32 version	2 (1: the append-only log of before, converted
 *				at mount, see cpa_xino_upgrade())
 *	12  __le32 block size	4096
 *	16  __le64 seq
 *	24  __le32 flags	CLEAN: the file was synced by an unmount
 *	28  __le32 crc32	of the 352 header bytes, this field zero
 *	32  __le64 nblocks	blocks in use or free: the high-water mark
 *	40  __le64 free_head	first block of the list of free blocks, or 0
 *	48  __le32 nslots	branch slots
 *	52  __le32 rev_height	height of the reverse table's tree
 *	56  __le64 rev_root	its root (a tree pointer, see below)
 *	64  __le64 cursor	next number the allocator looks at
 *	72  __le64 ino_max	one above the highest number ever handed out
 *	80  __le64 live		numbers in use
 *	88  __le64 nfree	blocks in the free list
 *	96  __le64 slot_blk[32]	the blocks of the slot table (64 slots each)
 *   Only the slot table and rev_root must be exact in a header without
 *   CLEAN: the rest is rebuilt by the first mount after a crash.
 *
 *   slot, 64 bytes: a branch, recognised by its identity
 *	0   u8[16] s_uuid of the branch filesystem
 *	16  __le64 inode number of the branch root directory
 *	24  __le32 generation of the branch root directory
 *	28  __le32 s_magic of the branch filesystem
 *	32  __le64 root of the forward tree of this branch
 *	40  __le32 its height (0: empty)
 *	44  zero, 60 __le32 crc32 of bytes 0..59
 *
 *   forward tree, one per slot: a radix tree over the branch inode number.
 *   A leaf holds 256 records of 16 bytes, indexed by h_ino & 255:
 *	__le32 ino, __le32 h_gen (0: unknown), __le32 ngen, __le32 crc32 of
 *	the 12 bytes and of the key (slot, h_ino).
 *   An interior block holds 512 pointers of 8 bytes: the block number in
 *   the low 48 bits, and 16 bits of a crc32 of (tree, level, key prefix,
 *   block number).  A record or a pointer read from a block that now holds
 *   something else, or that a crash left unwritten, fails its check and
 *   reads as empty.  A record never spans a 512-byte sector, so a torn
 *   write leaves each record old or new.  A taller tree has the old root as
 *   its child 0: 64-bit inode numbers (xfs, btrfs) only make it taller.
 *
 *   reverse table: a radix tree of the same kind (512 entries per leaf)
 *   over the union number: __le32 ngen, __le16 flags (USED), __le16 check
 *   (16 bits of a crc32 of number, ngen and flags).  A forward record is
 *   valid only while its number is USED with the record's ngen: freeing a
 *   number bumps its ngen, which invalidates every record that points at
 *   it at once, wherever it is.
 *
 *   free block: "cpaxfree", __le64 next, __le64 its own number, __le32 crc.
 *
 * Numbers are handed out by a next-fit cursor over the reverse table: at
 * ino_max the table grows when more than half of it is in use, else the
 * cursor starts over from the first number, so that the numbers stay
 * within about twice the most ever in use and a freed number waits as long
 * as possible before it is handed out again.  Numbers are at most
 * 2^31 - 1; the root directory of the top branch is always CPA_ROOT_INO.
 *
 * Writing.  Callers may hold the freeze protection of a branch filesystem
 * (copy-up), and the file must not be limited by the caller's
 * RLIMIT_FSIZE, so nobody writes the file but a work item.  A change is
 * made in a copy of its block kept in memory (the queue, xi->dirty); the
 * work item swaps the queue for an empty one and writes it, a little after
 * the first change (sooner once it holds many blocks).  Lookups look at the
 * queue and at the blocks being written (xi->flushing) before the file.
 * The memory of its own is what is not yet written; the rest is the file's
 * page cache.  Blocks that the slot table or the header point to
 * directly are written after the others and after a sync, so that a crash
 * never leaves a root pointing at a block that was not written.  A write
 * that fails (a full branch) writes neither, puts the queue back as it
 * was and is tried again a second later: the union keeps every number it
 * handed out, and the file catches up once there is room.
 *
 * Mounting writes the header without CLEAN, and syncs it, before anything
 * else changes; a clean unmount syncs the file and then writes CLEAN.  The
 * first mount after a crash (CLEAN missing) walks the trees once, at a
 * cost proportional to the blocks they use, and rebuilds what the header
 * did not say exactly: the USED flags from the valid forward records,
 * ino_max, live, the cursor and the list of free blocks.
 *
 * A branch inode number that comes back with another generation belongs to
 * a new file (the old one was removed behind the union's back): it gets a
 * new union number.  Branch filesystems are expected to hand out a new
 * generation when they reuse an inode number (ext4, xfs, btrfs and tmpfs
 * do).
 *
 * Without a file (noxino) the same structures live in the queue only.
 */
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/mm.h>
#include <linux/crc32.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/uuid.h>
#include <linux/list.h>
#include <linux/workqueue.h>
#include <linux/sched/mm.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include "cppaufs.h"

#define CPA_XINO_MAGIC		"cppaxino"
#define CPA_XINO_V1		1
#define CPA_XINO_V2		2
#define CPA_XINO_BLK_SHIFT	12
#define CPA_XINO_BLK		(1U << CPA_XINO_BLK_SHIFT)
#define CPA_XINO_CLEAN		1
#define CPA_XINO_NSLOTBLK	32
#define CPA_XINO_SLOT_SIZE	64
#define CPA_XINO_SLOTS_PER_BLK	(CPA_XINO_BLK / CPA_XINO_SLOT_SIZE)
#define CPA_XINO_MAX_SLOTS	(CPA_XINO_NSLOTBLK * CPA_XINO_SLOTS_PER_BLK)
/* Keys per leaf (log2): forward and reverse; pointers per interior block. */
#define CPA_XINO_FWD_SHIFT	8
#define CPA_XINO_REV_SHIFT	9
/* records read at a time when looking for a free number */
#define CPA_XINO_SCAN		64
#define CPA_XINO_PTR_SHIFT	9
#define CPA_XINO_PTRS		(1U << CPA_XINO_PTR_SHIFT)
#define CPA_XINO_MAX_HEIGHT	8
/* The reverse table's tree id in pointer checks (slots are below). */
#define CPA_XINO_REV_ID		U32_MAX
#define CPA_XINO_BLK_MAX	((1ULL << 48) - 1)
#define CPA_XINO_USED		1
#define CPA_XINO_FREE_MAGIC	"cpaxfree"
#define CPA_XINO_INO_MAX	((1UL << 31) - 1)
#define CPA_XINO_NO_SLOT	U32_MAX
/* The queue is written this long after its first change... */
#define CPA_XINO_DELAY		(HZ / 2)
/* ...or as soon as it holds this many blocks... */
#define CPA_XINO_BATCH		64
/* ...and this long after a write error. */
#define CPA_XINO_RETRY		HZ
/* Format 1, read to convert it. */
#define CPA_XINO_V1_HDR		64
#define CPA_XINO_V1_UNIT	32
#define CPA_XINO_T_BRANCH	1
#define CPA_XINO_T_MAP		2
#define CPA_XINO_CHUNK		(64 * 1024)

struct cpa_xino_hdr {
	char magic[8];
	__le32 version;
	__le32 blksize;
	__le64 seq;
	__le32 flags;
	__le32 csum;
	__le64 nblocks;
	__le64 free_head;
	__le32 nslots;
	__le32 rev_height;
	__le64 rev_root;
	__le64 cursor;
	__le64 ino_max;
	__le64 live;
	__le64 nfree;
	__le64 slot_blk[CPA_XINO_NSLOTBLK];
};

struct cpa_xino_slotrec {
	u8 uuid[16];
	__le64 root_ino;
	__le32 root_gen;
	__le32 s_magic;
	__le64 root;
	__le32 height;
	u8 zero[16];
	__le32 csum;
};

struct cpa_xino_fwd {
	__le32 ino;
	__le32 h_gen;
	__le32 ngen;
	__le32 csum;
};

struct cpa_xino_rev {
	__le32 ngen;
	__le16 flags;
	__le16 check;
};

struct cpa_xino_freeblk {
	char magic[8];
	__le64 next;
	__le64 blk;
	__le32 csum;
	__le32 zero;
};

/* Format 1 records. */
struct cpa_xino_v1_hdr {
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

static_assert(sizeof(struct cpa_xino_hdr) == 352);
static_assert(sizeof(struct cpa_xino_slotrec) == CPA_XINO_SLOT_SIZE);
static_assert(sizeof(struct cpa_xino_fwd) == 16);
static_assert(sizeof(struct cpa_xino_rev) == 8);
static_assert(sizeof(struct cpa_xino_v1_hdr) == CPA_XINO_V1_HDR);
static_assert(sizeof(struct cpa_xino_rec_branch) == 2 * CPA_XINO_V1_UNIT);
static_assert(sizeof(struct cpa_xino_rec_map) == CPA_XINO_V1_UNIT);

/* What identifies a branch across mounts. */
struct cpa_xino_brkey {
	uuid_t uuid;
	u64 root_ino;
	u32 root_gen;
	u32 s_magic;
};

/* A tree: its root pointer (encoded) and height. */
struct cpa_xino_tree {
	u64 root;
	u32 height;
};

struct cpa_xino_slot {
	struct cpa_xino_brkey key;
	struct cpa_xino_tree fwd;
	bool ok;		/* false: unreadable or unused, never matched */
};

/* The header, in CPU order. */
struct cpa_xino_state {
	u64 seq;
	u32 flags;
	u64 nblocks;
	u64 free_head;
	u64 nfree;
	u32 nslots;
	struct cpa_xino_tree rev;
	u64 cursor;
	u64 ino_max;
	u64 live;
	u64 slot_blk[CPA_XINO_NSLOTBLK];
};

/* A number freed by evict, applied once its object's removal is on disk. */
struct cpa_xino_gone {
	u64 h_ino;
	u32 slot;
	u32 ino;
};

/* A leaf found in a tree: cpa_xino_leaf()'s cache. */
struct cpa_xino_finger {
	u64 gen;		/* cpa_xino.tree_gen when found; 0: empty */
	u64 root;		/* the tree's root then */
	u64 prefix;		/* of the keys the leaf holds */
	u64 leaf;
	u32 id;			/* the tree */
};

#define CPA_XINO_FINGERS	8
/* clean copies of blocks kept in memory: 1 MiB */
#define CPA_XINO_CLEAN_MAX	256

/* Per mount (cpa_sb_info.xino), also without a file. */
struct cpa_xino {
	/*
	 * Serialises everything below but the file's writing: lookups,
	 * handing out numbers, the queue.  Held with allocations that do
	 * not enter filesystem reclaim (memalloc_nofs_save()): reclaim may
	 * evict union inodes, and evict frees numbers.
	 */
	struct mutex lock;
	/* Serialises writers of the file: the work item, sync, unmount. */
	struct mutex flush_lock;
	struct cpa_sb_info *sbi;
	struct file *file;		/* NULL: numbers live in memory only */
	struct inode *inode;		/* file_inode(file) */
	struct list_head in_use;	/* on cpa_xino_files */
	const char *path;		/* for messages */
	struct cpa_xino_state st;
	struct cpa_xino_slot *slots;	/* [st.nslots] */
	u32 slots_cap;
	/* block number -> a 4 KiB copy: changes not written yet */
	struct xarray *dirty;
	/* ... and those being written by the work item */
	struct xarray *flushing;
	struct xarray xa[2];
	unsigned long ndirty;
	/*
	 * block number -> a 4 KiB copy of what the file holds, for blocks
	 * in neither queue: lookups read them without the VFS's read path
	 * (cpa_xino_read()).  At most CPA_XINO_CLEAN_MAX; dropped when a
	 * block is queued or written otherwise.
	 */
	struct xarray clean;
	unsigned int nclean;
	bool hdr_dirty;			/* the header must be written */
	/*
	 * Blocks taken out of a tree since the last write: they join the
	 * free list once the change that took them out is on disk, so that
	 * a crash never leaves a tree pointing at a block used again.
	 */
	u64 *pfree;
	unsigned int npfree, pfree_cap;
	/*
	 * Numbers freed by evict, still USED in the tables: they are freed
	 * there once the removals behind them are on disk, so that a crash
	 * never leaves an object whose removal was lost without its number.
	 */
	struct cpa_xino_gone *gone;
	unsigned int ngone, gone_cap;
	bool closing;			/* unmount: may wait for the branch */
	struct delayed_work work;
	int err;			/* of the last write, 0 once written again */
	atomic_t unsynced;		/* written since the last sync */
	void *scratch;			/* one block, under lock */
	/*
	 * The leaves found last, so that a walk over neighbouring numbers
	 * (readdir, lookups in one directory) does not descend the tree for
	 * each; valid while @tree_gen, which every change of a tree's shape
	 * bumps, and the tree's root are what they were.
	 */
	struct cpa_xino_finger fingers[CPA_XINO_FINGERS];
	u64 tree_gen;
};

/* xino files in use by a mount: one mount per file. */
static LIST_HEAD(cpa_xino_files);
static DEFINE_MUTEX(cpa_xino_files_lock);

static u32 cpa_xino_csum(const void *p, size_t len)
{
	return crc32_le(~0U, p, len);
}

static unsigned int cpa_xino_lock(struct cpa_xino *xi)
{
	mutex_lock(&xi->lock);
	return memalloc_nofs_save();
}

static void cpa_xino_unlock(struct cpa_xino *xi, unsigned int nofs)
{
	memalloc_nofs_restore(nofs);
	mutex_unlock(&xi->lock);
}

static void cpa_xino_damaged(struct cpa_xino *xi, const char *what, u64 where)
{
	pr_warn_ratelimited("xino %s: damaged %s (%llu) ignored\n",
			    xi->path ?: "(memory)", what, where);
}

/* -- checks ---------------------------------------------------------------- */

/* A tree pointer to block @blk, a child at @level with key prefix @prefix. */
static u64 cpa_xino_ptr(u32 id, u32 level, u64 prefix, u64 blk)
{
	struct {
		__le32 id;
		__le32 level;
		__le64 prefix;
		__le64 blk;
	} k = {
		.id	= cpu_to_le32(id),
		.level	= cpu_to_le32(level),
		.prefix	= cpu_to_le64(prefix),
		.blk	= cpu_to_le64(blk),
	};

	return blk | (u64)(cpa_xino_csum(&k, sizeof(k)) & 0xffff) << 48;
}

/* The block a pointer names, or 0 when it is null or fails its check. */
static u64 cpa_xino_ptr_blk(u64 ptr, u32 id, u32 level, u64 prefix)
{
	u64 blk = ptr & CPA_XINO_BLK_MAX;

	if (!ptr || blk < 2 || cpa_xino_ptr(id, level, prefix, blk) != ptr)
		return 0;
	return blk;
}

static __le32 cpa_xino_fwd_csum(const struct cpa_xino_fwd *r, u32 slot,
				u64 h_ino)
{
	struct {
		__le32 ino;
		__le32 h_gen;
		__le32 ngen;
		__le32 slot;
		__le64 h_ino;
	} k = {
		.ino	= r->ino,
		.h_gen	= r->h_gen,
		.ngen	= r->ngen,
		.slot	= cpu_to_le32(slot),
		.h_ino	= cpu_to_le64(h_ino),
	};

	return cpu_to_le32(cpa_xino_csum(&k, sizeof(k)));
}

static __le16 cpa_xino_rev_check(u64 ino, u32 ngen, u16 flags)
{
	struct {
		__le64 ino;
		__le32 ngen;
		__le16 flags;
		__le16 zero;
	} k = {
		.ino	= cpu_to_le64(ino),
		.ngen	= cpu_to_le32(ngen),
		.flags	= cpu_to_le16(flags),
	};

	return cpu_to_le16(cpa_xino_csum(&k, sizeof(k)) & 0xffff);
}

/* A reverse entry: its ngen and flags, state 0 (empty), 1 (valid), -1. */
struct cpa_xino_revst {
	u32 ngen;
	u16 flags;
	int state;
};

static void cpa_xino_rev_decode(const struct cpa_xino_rev *e, u64 ino,
				struct cpa_xino_revst *rv)
{
	rv->ngen = le32_to_cpu(e->ngen);
	rv->flags = le16_to_cpu(e->flags);
	if (!rv->ngen && !rv->flags && !e->check)
		rv->state = 0;
	else if (e->check == cpa_xino_rev_check(ino, rv->ngen, rv->flags))
		rv->state = 1;
	else
		rv->state = -1;
}

static void cpa_xino_rev_encode(struct cpa_xino_rev *e, u64 ino, u32 ngen,
				u16 flags)
{
	e->ngen = cpu_to_le32(ngen);
	e->flags = cpu_to_le16(flags);
	e->check = cpa_xino_rev_check(ino, ngen, flags);
}

static bool cpa_xino_rev_free(const struct cpa_xino_revst *rv)
{
	return !rv->state || (rv->state > 0 && !(rv->flags & CPA_XINO_USED));
}

/* -- blocks ---------------------------------------------------------------- */

static loff_t cpa_xino_off(u64 blk)
{
	return (loff_t)blk << CPA_XINO_BLK_SHIFT;
}

/* Read from the file; what lies beyond its end reads as zeros. */
static int cpa_xino_pread(struct cpa_xino *xi, loff_t pos, void *buf,
			  size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (xi->file && got < len) {
		n = kernel_read(xi->file, buf + got, len - got, &pos);
		if (n < 0)
			return n;
		if (!n)
			break;
		got += n;
	}
	memset(buf + got, 0, len - got);
	return 0;
}

/* Forget the clean copy of block @blk, if any.  Under lock. */
static void cpa_xino_clean_forget(struct cpa_xino *xi, u64 blk)
{
	void *p = xa_erase(&xi->clean, blk);

	xi->nclean -= !!p;
	kfree(p);
}

/* Forget every clean copy.  Under lock, or with no other user. */
static void cpa_xino_clean_forget_all(struct cpa_xino *xi)
{
	unsigned long idx;
	void *p;

	xa_for_each(&xi->clean, idx, p)
		kfree(p);
	xa_destroy(&xi->clean);
	xi->nclean = 0;
}

/*
 * The clean copy of block @blk, which neither queue holds, read from the
 * file first if need be; NULL if it cannot be kept.  Under lock.
 */
static const void *cpa_xino_clean_get(struct cpa_xino *xi, u64 blk)
{
	void *p = xa_load(&xi->clean, blk);

	if (p || !xi->file)
		return p;
	/* Full: start again rather than keep track of use. */
	if (xi->nclean >= CPA_XINO_CLEAN_MAX)
		cpa_xino_clean_forget_all(xi);
	p = kmalloc(CPA_XINO_BLK, GFP_KERNEL);
	if (!p)
		return NULL;
	if (cpa_xino_pread(xi, cpa_xino_off(blk), p, CPA_XINO_BLK) ||
	    xa_err(xa_store(&xi->clean, blk, p, GFP_KERNEL))) {
		kfree(p);
		return NULL;
	}
	xi->nclean++;
	return p;
}

/* Read @len bytes at @off of block @blk, queued or written.  Under lock. */
static int cpa_xino_read(struct cpa_xino *xi, u64 blk, size_t off, void *buf,
			 size_t len)
{
	const void *p = xa_load(xi->dirty, blk);

	if (!p)
		p = xa_load(xi->flushing, blk);
	if (!p)
		p = cpa_xino_clean_get(xi, blk);
	if (p) {
		memcpy(buf, p + off, len);
		return 0;
	}
	return cpa_xino_pread(xi, cpa_xino_off(blk) + off, buf, len);
}

/* The queued copy of block @blk, to read in place, or NULL.  Under lock. */
static const void *cpa_xino_peek(struct cpa_xino *xi, u64 blk)
{
	void *p = xa_load(xi->dirty, blk);

	return p ? p : xa_load(xi->flushing, blk);
}

/*
 * Does block @blk hold a free block's header?  A crash may leave a tree
 * pointing at a block that was taken from the free list but not written
 * yet: what it holds then is junk, not damage.
 */
static bool cpa_xino_is_free(struct cpa_xino *xi, u64 blk)
{
	char magic[8];

	return !cpa_xino_read(xi, blk, 0, magic, sizeof(magic)) &&
	       !memcmp(magic, CPA_XINO_FREE_MAGIC, sizeof(magic));
}

static void cpa_xino_kick(struct cpa_xino *xi)
{
	if (!xi->file)
		return;
	if (xi->ndirty >= CPA_XINO_BATCH)
		mod_delayed_work(cpa_system_wq, &xi->work, 0);
	else
		queue_delayed_work(cpa_system_wq, &xi->work, CPA_XINO_DELAY);
}

/*
 * Block @blk, to change: its queued copy, made from what it holds now, or
 * zeros when @fresh.  Under lock.
 */
static void *cpa_xino_modify(struct cpa_xino *xi, u64 blk, bool fresh)
{
	void *p = xa_load(xi->dirty, blk), *q;
	int err = 0;

	if (p) {
		if (fresh)
			memset(p, 0, CPA_XINO_BLK);
		return p;
	}
	p = kmalloc(CPA_XINO_BLK, GFP_KERNEL);
	if (!p)
		return ERR_PTR(-ENOMEM);
	q = xa_load(xi->flushing, blk);
	if (!q)
		q = xa_load(&xi->clean, blk);
	if (fresh)
		memset(p, 0, CPA_XINO_BLK);
	else if (q)
		memcpy(p, q, CPA_XINO_BLK);
	else
		err = cpa_xino_pread(xi, cpa_xino_off(blk), p, CPA_XINO_BLK);
	if (!err)
		err = xa_err(xa_store(xi->dirty, blk, p, GFP_KERNEL));
	if (err) {
		kfree(p);
		return ERR_PTR(err);
	}
	/* Queued now: the copy to read; the file will hold it. */
	cpa_xino_clean_forget(xi, blk);
	xi->ndirty++;
	if (xi->ndirty == 1 || xi->ndirty == CPA_XINO_BATCH)
		cpa_xino_kick(xi);
	return p;
}

static void cpa_xino_hdr_changed(struct cpa_xino *xi)
{
	xi->hdr_dirty = true;
	cpa_xino_kick(xi);
}

static bool cpa_xino_freeblk_ok(const struct cpa_xino_freeblk *fb, u64 blk,
				u64 nblocks)
{
	return !memcmp(fb->magic, CPA_XINO_FREE_MAGIC, sizeof(fb->magic)) &&
	       le64_to_cpu(fb->blk) == blk &&
	       le64_to_cpu(fb->next) < nblocks &&
	       le32_to_cpu(fb->csum) ==
			cpa_xino_csum(fb, offsetof(struct cpa_xino_freeblk,
						   csum));
}

/* A block joins or leaves a tree, or trees change wholesale. */
static void cpa_xino_reshape(struct cpa_xino *xi)
{
	xi->tree_gen++;
}

/* A new block, zeroed in the queue: from the free list, else appended. */
static int cpa_xino_alloc_blk(struct cpa_xino *xi, u64 *blk, void **data)
{
	struct cpa_xino_state *st = &xi->st;
	struct cpa_xino_freeblk fb;
	u64 b = st->free_head;
	void *p;
	int err;

	if (b) {
		err = cpa_xino_read(xi, b, 0, &fb, sizeof(fb));
		if (err)
			return err;
		if (cpa_xino_freeblk_ok(&fb, b, st->nblocks)) {
			st->free_head = le64_to_cpu(fb.next);
			st->nfree--;
		} else {
			cpa_xino_damaged(xi, "free block", b);
			st->free_head = 0;
			st->nfree = 0;
			b = 0;
		}
	}
	if (!b) {
		if (st->nblocks >= CPA_XINO_BLK_MAX)
			return -EFBIG;
		b = st->nblocks++;
	}
	p = cpa_xino_modify(xi, b, true);
	if (IS_ERR(p))
		return PTR_ERR(p);	/* the block is found again after a crash */
	cpa_xino_reshape(xi);
	*blk = b;
	if (data)
		*data = p;
	return 0;
}

static void cpa_xino_freeblk_encode(struct cpa_xino_freeblk *fb, u64 blk,
				    u64 next)
{
	memset(fb, 0, sizeof(*fb));
	memcpy(fb->magic, CPA_XINO_FREE_MAGIC, sizeof(fb->magic));
	fb->next = cpu_to_le64(next);
	fb->blk = cpu_to_le64(blk);
	fb->csum = cpu_to_le32(cpa_xino_csum(fb, offsetof(struct cpa_xino_freeblk,
							  csum)));
}

/* Put block @blk on the free list. */
static int cpa_xino_free_blk(struct cpa_xino *xi, u64 blk)
{
	struct cpa_xino_freeblk *fb;

	fb = cpa_xino_modify(xi, blk, true);
	if (IS_ERR(fb))
		return PTR_ERR(fb);
	cpa_xino_reshape(xi);
	cpa_xino_freeblk_encode(fb, blk, xi->st.free_head);
	xi->st.free_head = blk;
	xi->st.nfree++;
	return 0;
}

/* -- trees ----------------------------------------------------------------- */

/* Bits of key a block at @level covers, for leaves of 2^@shift keys. */
static unsigned int cpa_xino_bits(unsigned int shift, u32 level)
{
	return shift + CPA_XINO_PTR_SHIFT * level;
}

static u64 cpa_xino_prefix(u64 key, unsigned int bits)
{
	return bits >= 64 ? 0 : key >> bits;
}

static struct cpa_xino_finger *cpa_xino_finger(struct cpa_xino *xi, u32 id,
					       u64 prefix)
{
	return &xi->fingers[hash_64(prefix ^ ((u64)id << 32),
				    ilog2(CPA_XINO_FINGERS))];
}

/*
 * The leaf of tree @t (@id: its slot, or CPA_XINO_REV_ID) that holds @key,
 * made with the blocks above it when @create; *@leaf is 0 when there is
 * none.  *@changed is set when the root changed: the caller records it.
 */
static int cpa_xino_leaf(struct cpa_xino *xi, struct cpa_xino_tree *t, u32 id,
			 unsigned int shift, u64 key, bool create,
			 bool *changed, u64 *leaf)
{
	u64 blk, child, ptr, cprefix, lprefix = cpa_xino_prefix(key, shift);
	struct cpa_xino_finger *f = cpa_xino_finger(xi, id, lprefix);
	__le64 *p, lp;
	unsigned int idx;
	u32 level;
	int err;

	if (f->gen == xi->tree_gen && f->id == id && f->prefix == lprefix &&
	    f->root == t->root && t->height) {
		*leaf = f->leaf;
		return 0;
	}
	*leaf = 0;
again:
	while (!t->height ||
	       cpa_xino_prefix(key, cpa_xino_bits(shift, t->height - 1))) {
		if (!create)
			return 0;
		if (t->height >= CPA_XINO_MAX_HEIGHT)
			return -EFBIG;
		err = cpa_xino_alloc_blk(xi, &blk, (void **)&p);
		if (err)
			return err;
		/* The old root is the new one's child 0, prefix 0. */
		if (t->height)
			p[0] = cpu_to_le64(t->root);
		t->root = cpa_xino_ptr(id, t->height, 0, blk);
		t->height++;
		*changed = true;
	}
	blk = cpa_xino_ptr_blk(t->root, id, t->height - 1, 0);
	if (!blk) {
		cpa_xino_damaged(xi, "tree root", id);
		if (!create)
			return 0;
		cpa_xino_reshape(xi);
		t->root = 0;
		t->height = 0;
		*changed = true;
		goto again;
	}
	for (level = t->height - 1; level > 0; level--) {
		cprefix = cpa_xino_prefix(key, cpa_xino_bits(shift, level - 1));
		idx = cprefix & (CPA_XINO_PTRS - 1);
		err = cpa_xino_read(xi, blk, idx * sizeof(lp), &lp, sizeof(lp));
		if (err)
			return err;
		ptr = le64_to_cpu(lp);
		child = cpa_xino_ptr_blk(ptr, id, level - 1, cprefix);
		if (!child) {
			if (ptr && !cpa_xino_is_free(xi, blk))
				cpa_xino_damaged(xi, "tree pointer", blk);
			if (!create)
				return 0;
			p = cpa_xino_modify(xi, blk, false);
			if (IS_ERR(p))
				return PTR_ERR(p);
			err = cpa_xino_alloc_blk(xi, &child, NULL);
			if (err)
				return err;
			p[idx] = cpu_to_le64(cpa_xino_ptr(id, level - 1,
							  cprefix, child));
		}
		blk = child;
	}
	*leaf = blk;
	*f = (struct cpa_xino_finger){ .gen = xi->tree_gen, .root = t->root,
				       .prefix = lprefix, .leaf = blk,
				       .id = id };
	return 0;
}

static int cpa_xino_rev_get(struct cpa_xino *xi, u64 ino,
			    struct cpa_xino_revst *rv)
{
	struct cpa_xino_rev e;
	bool changed = false;
	u64 leaf;
	int err;

	memset(rv, 0, sizeof(*rv));
	err = cpa_xino_leaf(xi, &xi->st.rev, CPA_XINO_REV_ID,
			    CPA_XINO_REV_SHIFT, ino, false, &changed, &leaf);
	if (err || !leaf)
		return err;
	err = cpa_xino_read(xi, leaf, (ino & ((1U << CPA_XINO_REV_SHIFT) - 1)) *
			    sizeof(e), &e, sizeof(e));
	if (!err)
		cpa_xino_rev_decode(&e, ino, rv);
	return err;
}

static int cpa_xino_rev_set(struct cpa_xino *xi, u64 ino, u32 ngen, u16 flags)
{
	struct cpa_xino_rev *e;
	bool changed = false;
	u64 leaf;
	int err;

	err = cpa_xino_leaf(xi, &xi->st.rev, CPA_XINO_REV_ID,
			    CPA_XINO_REV_SHIFT, ino, true, &changed, &leaf);
	if (changed)
		cpa_xino_hdr_changed(xi);
	if (err)
		return err;
	e = cpa_xino_modify(xi, leaf, false);
	if (IS_ERR(e))
		return PTR_ERR(e);
	cpa_xino_rev_encode(&e[ino & ((1U << CPA_XINO_REV_SHIFT) - 1)], ino,
			    ngen, flags);
	return 0;
}

/* -- slots ----------------------------------------------------------------- */

static void cpa_xino_slot_encode(const struct cpa_xino_slot *s,
				 struct cpa_xino_slotrec *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->uuid, &s->key.uuid, sizeof(r->uuid));
	r->root_ino = cpu_to_le64(s->key.root_ino);
	r->root_gen = cpu_to_le32(s->key.root_gen);
	r->s_magic = cpu_to_le32(s->key.s_magic);
	r->root = cpu_to_le64(s->fwd.root);
	r->height = cpu_to_le32(s->fwd.height);
	r->csum = cpu_to_le32(cpa_xino_csum(r, offsetof(struct cpa_xino_slotrec,
							 csum)));
}

/* Returns 0 (empty), 1 (valid) or -1 (damaged). */
static int cpa_xino_slot_decode(const struct cpa_xino_slotrec *r,
				struct cpa_xino_slot *s)
{
	memset(s, 0, sizeof(*s));
	if (!memchr_inv(r, 0, sizeof(*r)))
		return 0;
	if (le32_to_cpu(r->csum) !=
	    cpa_xino_csum(r, offsetof(struct cpa_xino_slotrec, csum)) ||
	    le32_to_cpu(r->height) > CPA_XINO_MAX_HEIGHT)
		return -1;
	memcpy(&s->key.uuid, r->uuid, sizeof(s->key.uuid));
	s->key.root_ino = le64_to_cpu(r->root_ino);
	s->key.root_gen = le32_to_cpu(r->root_gen);
	s->key.s_magic = le32_to_cpu(r->s_magic);
	s->fwd.root = le64_to_cpu(r->root);
	s->fwd.height = le32_to_cpu(r->height);
	s->ok = true;
	return 1;
}

static int cpa_xino_slot_write(struct cpa_xino *xi, u32 slot)
{
	u32 bi = slot / CPA_XINO_SLOTS_PER_BLK;
	u64 blk = xi->st.slot_blk[bi];
	struct cpa_xino_slotrec *r;
	int err;

	if (!blk) {
		err = cpa_xino_alloc_blk(xi, &blk, NULL);
		if (err)
			return err;
		xi->st.slot_blk[bi] = blk;
		cpa_xino_hdr_changed(xi);
	}
	r = cpa_xino_modify(xi, blk, false);
	if (IS_ERR(r))
		return PTR_ERR(r);
	cpa_xino_slot_encode(&xi->slots[slot],
			     &r[slot % CPA_XINO_SLOTS_PER_BLK]);
	return 0;
}

static int cpa_xino_slots_grow(struct cpa_xino *xi, u32 n)
{
	struct cpa_xino_slot *s;
	u32 cap;

	if (n <= xi->slots_cap)
		return 0;
	cap = max3(n, 2 * xi->slots_cap, 8U);
	s = krealloc(xi->slots, cap * sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	memset(s + xi->slots_cap, 0, (cap - xi->slots_cap) * sizeof(*s));
	xi->slots = s;
	xi->slots_cap = cap;
	return 0;
}

/* The slot of branch @key, given one when it has none. */
static int cpa_xino_slot_find(struct cpa_xino *xi,
			      const struct cpa_xino_brkey *key, u32 *slot)
{
	struct cpa_xino_slot *s;
	u32 i, n = xi->st.nslots;
	int err;

	for (i = 0; i < n; i++) {
		if (xi->slots[i].ok &&
		    !memcmp(&xi->slots[i].key, key, sizeof(*key))) {
			*slot = i;
			return 0;
		}
	}
	if (n >= CPA_XINO_MAX_SLOTS)
		return -EOVERFLOW;
	err = cpa_xino_slots_grow(xi, n + 1);
	if (err)
		return err;
	s = &xi->slots[n];
	memset(s, 0, sizeof(*s));
	s->key = *key;
	s->ok = true;
	xi->st.nslots = n + 1;
	cpa_xino_hdr_changed(xi);
	err = cpa_xino_slot_write(xi, n);
	if (err)
		return err;
	*slot = n;
	return 0;
}

/* -- forward records ------------------------------------------------------- */

struct cpa_xino_map {
	u32 ino;
	u32 gen;
	u32 ngen;
};

/* The valid record of (@slot, @h_ino): 1, or 0 when there is none. */
static int cpa_xino_fwd_get(struct cpa_xino *xi, u32 slot, u64 h_ino,
			    struct cpa_xino_map *m)
{
	struct cpa_xino_slot *s = &xi->slots[slot];
	struct cpa_xino_revst rv;
	struct cpa_xino_fwd r;
	bool changed = false;
	u64 leaf;
	int err;

	err = cpa_xino_leaf(xi, &s->fwd, slot, CPA_XINO_FWD_SHIFT, h_ino, false,
			    &changed, &leaf);
	if (err || !leaf)
		return err;
	err = cpa_xino_read(xi, leaf, (h_ino & ((1U << CPA_XINO_FWD_SHIFT) - 1)) *
			    sizeof(r), &r, sizeof(r));
	if (err)
		return err;
	if (!memchr_inv(&r, 0, sizeof(r)))
		return 0;
	if (r.csum != cpa_xino_fwd_csum(&r, slot, h_ino)) {
		if (!cpa_xino_is_free(xi, leaf))
			cpa_xino_damaged(xi, "record", h_ino);
		return 0;
	}
	m->ino = le32_to_cpu(r.ino);
	m->gen = le32_to_cpu(r.h_gen);
	m->ngen = le32_to_cpu(r.ngen);
	if (!m->ngen || m->ino < CPA_FIRST_INO || m->ino > CPA_XINO_INO_MAX)
		return 0;
	err = cpa_xino_rev_get(xi, m->ino, &rv);
	if (err)
		return err;
	return rv.state > 0 && (rv.flags & CPA_XINO_USED) && rv.ngen == m->ngen;
}

/* Free block @blk once what is queued now is on disk. */
static int cpa_xino_release_blk(struct cpa_xino *xi, u64 blk)
{
	u64 *p;

	cpa_xino_reshape(xi);
	if (!xi->file)
		return cpa_xino_free_blk(xi, blk);
	if (xi->npfree == xi->pfree_cap) {
		unsigned int cap = max(2 * xi->pfree_cap, 64U);

		p = krealloc(xi->pfree, cap * sizeof(*p), GFP_KERNEL);
		if (!p)
			return -ENOMEM;	/* found again after a crash */
		xi->pfree = p;
		xi->pfree_cap = cap;
	}
	xi->pfree[xi->npfree++] = blk;
	return 0;
}

/*
 * The leaf of @key in tree @t is empty: take it out of the tree, and each
 * block above it that this leaves empty, the root excepted.
 */
static int cpa_xino_prune(struct cpa_xino *xi, struct cpa_xino_tree *t,
			  u32 id, unsigned int shift, u64 key)
{
	u64 path[CPA_XINO_MAX_HEIGHT], cprefix, ptr;
	unsigned int idx[CPA_XINO_MAX_HEIGHT];
	__le64 lp, *p;
	u32 level;
	int err;

	if (t->height < 2)
		return 0;
	path[t->height - 1] = cpa_xino_ptr_blk(t->root, id, t->height - 1, 0);
	if (!path[t->height - 1])
		return 0;
	for (level = t->height - 1; level > 0; level--) {
		cprefix = cpa_xino_prefix(key, cpa_xino_bits(shift, level - 1));
		idx[level] = cprefix & (CPA_XINO_PTRS - 1);
		err = cpa_xino_read(xi, path[level], idx[level] * sizeof(lp),
				    &lp, sizeof(lp));
		if (err)
			return err;
		ptr = le64_to_cpu(lp);
		path[level - 1] = cpa_xino_ptr_blk(ptr, id, level - 1, cprefix);
		if (!path[level - 1])
			return 0;
	}
	/* path[0] is the empty leaf; idx[l] its ancestor's slot in path[l]. */
	for (level = 1; level < t->height; level++) {
		p = cpa_xino_modify(xi, path[level], false);
		if (IS_ERR(p))
			return PTR_ERR(p);
		cpa_xino_reshape(xi);
		p[idx[level]] = 0;
		err = cpa_xino_release_blk(xi, path[level - 1]);
		if (err)
			return err;
		if (level == t->height - 1 || memchr_inv(p, 0, CPA_XINO_BLK))
			break;
	}
	return 0;
}

/* Write the record of (@slot, @h_ino); @m NULL clears it. */
static int cpa_xino_fwd_put(struct cpa_xino *xi, u32 slot, u64 h_ino,
			    const struct cpa_xino_map *m)
{
	struct cpa_xino_slot *s = &xi->slots[slot];
	struct cpa_xino_fwd *r;
	bool changed = false;
	u64 leaf;
	int err, err2 = 0;

	err = cpa_xino_leaf(xi, &s->fwd, slot, CPA_XINO_FWD_SHIFT, h_ino, !!m,
			    &changed, &leaf);
	if (changed)
		err2 = cpa_xino_slot_write(xi, slot);
	if (err || err2 || !leaf)
		return err ?: err2;
	r = cpa_xino_modify(xi, leaf, false);
	if (IS_ERR(r))
		return PTR_ERR(r);
	if (!m) {
		size_t off = (h_ino & ((1U << CPA_XINO_FWD_SHIFT) - 1)) *
			     sizeof(*r);

		memset((void *)r + off, 0, sizeof(*r));
		/*
		 * Empty now?  From the record on first: objects tend to go
		 * in the order of their inode numbers, and then the next
		 * record is live.
		 */
		if (memchr_inv((void *)r + off, 0, CPA_XINO_BLK - off) ||
		    memchr_inv(r, 0, off))
			return 0;
		return cpa_xino_prune(xi, &s->fwd, slot, CPA_XINO_FWD_SHIFT,
				      h_ino);
	}
	r += h_ino & ((1U << CPA_XINO_FWD_SHIFT) - 1);
	r->ino = cpu_to_le32(m->ino);
	r->h_gen = cpu_to_le32(m->gen);
	r->ngen = cpu_to_le32(m->ngen);
	r->csum = cpa_xino_fwd_csum(r, slot, h_ino);
	return 0;
}

/* -- numbers --------------------------------------------------------------- */

/* Mark @ino in use, with its current ngen (1 for a number never used). */
static int cpa_xino_take(struct cpa_xino *xi, u64 ino,
			 const struct cpa_xino_revst *rv, u32 *ngen)
{
	int err;

	*ngen = rv->state > 0 && rv->ngen ? rv->ngen : 1;
	err = cpa_xino_rev_set(xi, ino, *ngen, CPA_XINO_USED);
	if (err)
		return err;
	xi->st.live++;
	if (xi->st.ino_max <= ino)
		xi->st.ino_max = ino + 1;
	return 0;
}

/*
 * A free number: the next one from the cursor, next-fit.  At ino_max the
 * table grows if more than half of it is in use, else the cursor starts
 * over.
 */
static int cpa_xino_alloc_ino(struct cpa_xino *xi, u32 *ino, u32 *ngen)
{
	struct cpa_xino_state *st = &xi->st;
	const u32 mask = (1U << CPA_XINO_REV_SHIFT) - 1;
	struct cpa_xino_revst rv;
	bool wrapped = false, changed = false, queued;
	const struct cpa_xino_rev *e;
	u64 n, end, leaf;
	int err;

	for (;;) {
		if (st->cursor < CPA_FIRST_INO)
			st->cursor = CPA_FIRST_INO;
		if (st->cursor >= st->ino_max) {
			if (!wrapped && st->ino_max > CPA_FIRST_INO &&
			    st->live <= (st->ino_max - CPA_FIRST_INO) / 2) {
				st->cursor = CPA_FIRST_INO;
				wrapped = true;
				continue;
			}
			if (st->ino_max > CPA_XINO_INO_MAX) {
				if (wrapped)
					return -EOVERFLOW;
				st->cursor = CPA_FIRST_INO;
				wrapped = true;
				continue;
			}
			n = st->ino_max;
			st->ino_max = n + 1;
			st->cursor = n + 1;
			err = cpa_xino_rev_get(xi, n, &rv);
			if (err)
				return err;
			if (!cpa_xino_rev_free(&rv))
				continue;
			goto take;
		}
		n = st->cursor;
		end = min((n | mask) + 1, st->ino_max);
		err = cpa_xino_leaf(xi, &st->rev, CPA_XINO_REV_ID,
				    CPA_XINO_REV_SHIFT, n, false, &changed,
				    &leaf);
		if (err)
			return err;
		if (!leaf) {
			memset(&rv, 0, sizeof(rv));
			goto take;
		}
		/*
		 * A leaf queued for writing is read in place; else only the
		 * records from the cursor on, a few at a time: the next
		 * one is most often free.
		 */
		e = cpa_xino_peek(xi, leaf);
		queued = e;
		while (n < end) {
			u64 stop = min(end, n + CPA_XINO_SCAN);
			size_t off = (n & mask) * sizeof(*e);

			if (!queued) {
				err = cpa_xino_read(xi, leaf, off,
						    xi->scratch + off,
						    (stop - n) * sizeof(*e));
				if (err)
					return err;
				e = xi->scratch;
			}
			for (; n < stop; n++) {
				cpa_xino_rev_decode(&e[n & mask], n, &rv);
				if (cpa_xino_rev_free(&rv))
					goto take;
			}
		}
		st->cursor = end;
	}
take:
	if (st->cursor <= n)
		st->cursor = n + 1;
	err = cpa_xino_take(xi, n, &rv, ngen);
	if (!err)
		*ino = n;
	return err;
}

/*
 * Free number @g->ino, whose object is gone: bump its ngen, which makes
 * every record that names it invalid, and clear the record of the branch
 * object that backed it last, freeing its leaf when that empties it.
 * Under lock.
 */
static int cpa_xino_free_ino(struct cpa_xino *xi,
			     const struct cpa_xino_gone *g)
{
	struct cpa_xino_revst rv;
	struct cpa_xino_map m;
	int found, err;

	err = cpa_xino_rev_get(xi, g->ino, &rv);
	if (err || rv.state <= 0 || !(rv.flags & CPA_XINO_USED))
		return err;
	found = 0;
	if (g->slot < xi->st.nslots)
		found = cpa_xino_fwd_get(xi, g->slot, g->h_ino, &m);
	err = cpa_xino_rev_set(xi, g->ino, rv.ngen + 1 ?: 1, 0);
	if (err)
		return err;
	xi->st.live--;
	if (found > 0 && m.ino == g->ino)
		err = cpa_xino_fwd_put(xi, g->slot, g->h_ino, NULL);
	return err;
}

/*
 * Make the removals made through the union so far durable: commit the
 * journal (or force the log) of the filesystem @h_sb of a writable
 * branch, whose directories they changed.  Unless @wait, give up rather
 * than wait for its s_umount: a freeze holds it while it waits for
 * writers, which may wait for the xino file to be written (copy-up,
 * fsync).
 */
static int cpa_xino_sync_branch_fs(struct super_block *h_sb, bool wait)
{
	int err = 0;

	if (!h_sb->s_op->sync_fs)
		return 0;
	if (!wait && !down_read_trylock(&h_sb->s_umount))
		return -EAGAIN;
	if (wait)
		down_read(&h_sb->s_umount);
	/* A frozen filesystem was synced whole by its freeze. */
	if (!sb_rdonly(h_sb) && h_sb->s_writers.frozen == SB_UNFROZEN)
		err = h_sb->s_op->sync_fs(h_sb, 1);
	up_read(&h_sb->s_umount);
	return err;
}

/* The same for every writable branch's filesystem, each once. */
static int cpa_xino_sync_branches(struct cpa_xino *xi, bool wait)
{
	struct cpa_wbrs *w = cpa_wbrs_get(xi->sbi);
	struct super_block *h_sb;
	int i, j, err = 0;

	for (i = 0; i < w->n && !err; i++) {
		h_sb = w->br[i]->path.mnt->mnt_sb;
		for (j = 0; j < i; j++)
			if (w->br[j]->path.mnt->mnt_sb == h_sb)
				break;
		if (j == i)
			err = cpa_xino_sync_branch_fs(h_sb, wait);
	}
	cpa_wbrs_put(w);
	return err;
}

/*
 * Free the numbers that evict gave up once what removed their objects is
 * on disk.  A number freed in the file before the removal of its object
 * reached the branch would leave that object, back after a crash, without
 * its number.  Runs where the file is written, under flush_lock.
 */
static void cpa_xino_apply_gone(struct cpa_xino *xi)
{
	unsigned int n, i, nofs;
	int err;

	nofs = cpa_xino_lock(xi);
	n = xi->ngone;
	cpa_xino_unlock(xi, nofs);
	if (!n)
		return;
	/* Those queued from now on wait for the next write. */
	err = cpa_xino_sync_branches(xi, READ_ONCE(xi->closing));
	if (err) {
		if (err != -EAGAIN)
			pr_warn_ratelimited("xino %s: cannot sync a writable branch (error %d): numbers are freed later\n",
					    xi->path, err);
		queue_delayed_work(cpa_system_wq, &xi->work, CPA_XINO_DELAY);
		return;
	}
	nofs = cpa_xino_lock(xi);
	for (i = 0; i < n; i++) {
		err = cpa_xino_free_ino(xi, &xi->gone[i]);
		if (err)
			pr_warn_ratelimited("xino: cannot free number %u (error %d)\n",
					    xi->gone[i].ino, err);
	}
	xi->ngone -= n;
	memmove(xi->gone, xi->gone + n, xi->ngone * sizeof(*xi->gone));
	cpa_xino_unlock(xi, nofs);
}

/* -- the writer ------------------------------------------------------------ */

static void cpa_xino_hdr_encode(const struct cpa_xino_state *st,
				struct cpa_xino_hdr *h)
{
	int i;

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, CPA_XINO_MAGIC, sizeof(h->magic));
	h->version = cpu_to_le32(CPA_XINO_V2);
	h->blksize = cpu_to_le32(CPA_XINO_BLK);
	h->seq = cpu_to_le64(st->seq);
	h->flags = cpu_to_le32(st->flags);
	h->nblocks = cpu_to_le64(st->nblocks);
	h->free_head = cpu_to_le64(st->free_head);
	h->nslots = cpu_to_le32(st->nslots);
	h->rev_height = cpu_to_le32(st->rev.height);
	h->rev_root = cpu_to_le64(st->rev.root);
	h->cursor = cpu_to_le64(st->cursor);
	h->ino_max = cpu_to_le64(st->ino_max);
	h->live = cpu_to_le64(st->live);
	h->nfree = cpu_to_le64(st->nfree);
	for (i = 0; i < CPA_XINO_NSLOTBLK; i++)
		h->slot_blk[i] = cpu_to_le64(st->slot_blk[i]);
	h->csum = cpu_to_le32(cpa_xino_csum(h, sizeof(*h)));
}

/* Write @len bytes at @pos. */
static int cpa_xino_pwrite(struct cpa_xino *xi, loff_t pos, const void *buf,
			   size_t len)
{
	ssize_t n;

	while (len) {
		n = kernel_write(xi->file, buf, len, &pos);
		if (n <= 0)
			return n ? n : -EIO;
		buf += n;
		len -= n;
	}
	return 0;
}

static bool cpa_xino_is_slot_blk(const u64 *slot_blk, u64 blk)
{
	int i;

	for (i = 0; i < CPA_XINO_NSLOTBLK; i++)
		if (slot_blk[i] == blk)
			return true;
	return false;
}

static int cpa_xino_sync_file(struct cpa_xino *xi, int datasync)
{
	const struct cred *old;
	int err;

	old = override_creds(xi->sbi->creator_cred);
	err = vfs_fsync(xi->file, datasync);
	cpa_revert_creds(old);
	return err;
}

/*
 * A write of the queue @fl failed (a full or failing branch): put back
 * what it held, so that nothing is lost and the next write tries again.
 * A block changed meanwhile has a newer copy queued, which wins.  The
 * header keeps the sequence number it did not write: the copy of it that
 * is valid on disk stays the one that is not written next.  The blocks to
 * free (@pfree, @npfree) wait again for a write.  Under lock.
 */
static void cpa_xino_requeue(struct cpa_xino *xi, struct xarray *fl, bool hdr,
			     u64 *pfree, unsigned int npfree)
{
	unsigned long idx;
	unsigned int i;
	void *p;

	xa_for_each(fl, idx, p) {
		if (xa_load(xi->dirty, idx) ||
		    xa_err(xa_store(xi->dirty, idx, p, GFP_KERNEL)))
			continue;	/* freed with the rest of @fl */
		xa_erase(fl, idx);
		xi->ndirty++;
	}
	if (hdr) {
		xi->st.seq--;
		xi->hdr_dirty = true;
	}
	for (i = 0; i < npfree; i++)
		if (cpa_xino_release_blk(xi, pfree[i]))
			break;		/* found again after a crash */
	kfree(pfree);
}

/*
 * Say once that the file cannot be written, and once that it can again;
 * while it cannot, what is queued stays in memory and is tried again
 * every CPA_XINO_RETRY.  Under flush_lock.
 */
static void cpa_xino_write_result(struct cpa_xino *xi, int err)
{
	if (!err) {
		if (xi->err)
			pr_info("xino %s: written again after error %d\n",
				xi->path, xi->err);
		xi->err = 0;
		return;
	}
	if (!xi->err)
		pr_warn("xino %s: write error %d: kept in memory and tried again\n",
			xi->path, err);
	xi->err = err;
	if (!READ_ONCE(xi->closing))
		queue_delayed_work(cpa_system_wq, &xi->work, CPA_XINO_RETRY);
}

/*
 * Write what is queued: the blocks first, then, after a sync, the slot
 * blocks and the header, which point to them.  Runs in the work item, or
 * under the mount or the unmount, or for syncfs; never with xi->lock held.
 */
static int cpa_xino_drain(struct cpa_xino *xi)
{
	u64 slot_blk[CPA_XINO_NSLOTBLK];
	struct cpa_xino_hdr h;
	const struct cred *old;
	struct xarray *fl;
	bool hdr, meta = false, any = false;
	unsigned int nofs, npfree, i;
	unsigned long idx;
	u64 *pfree;
	int err = 0, e;
	void *p;

	if (!xi->file)
		return 0;
	mutex_lock(&xi->flush_lock);
	cpa_xino_apply_gone(xi);
	nofs = cpa_xino_lock(xi);
	fl = xi->dirty;
	xi->dirty = xi->flushing;
	xi->flushing = fl;
	xi->ndirty = 0;
	hdr = xi->hdr_dirty;
	if (hdr) {
		xi->hdr_dirty = false;
		xi->st.seq++;
		cpa_xino_hdr_encode(&xi->st, &h);
	}
	memcpy(slot_blk, xi->st.slot_blk, sizeof(slot_blk));
	pfree = xi->pfree;
	npfree = xi->npfree;
	xi->pfree = NULL;
	xi->npfree = 0;
	xi->pfree_cap = 0;
	cpa_xino_unlock(xi, nofs);

	nofs = memalloc_nofs_save();
	old = override_creds(xi->sbi->creator_cred);
	xa_for_each(fl, idx, p) {
		if (cpa_xino_is_slot_blk(slot_blk, idx)) {
			meta = true;
			continue;
		}
		e = cpa_xino_pwrite(xi, cpa_xino_off(idx), p, CPA_XINO_BLK);
		err = err ?: e;
		any = true;
	}
	/*
	 * What the slots and the header point to is on disk first, and so
	 * are the changes that took blocks out of the trees before the
	 * blocks are used again.
	 */
	if ((meta || hdr || npfree) && any) {
		e = vfs_fsync(xi->file, 1);
		err = err ?: e;
	}
	/*
	 * A block out of a tree holds a free block's header on disk before
	 * it is used again: what a crash leaves in it is never mistaken for
	 * damage (cpa_xino_is_free()).
	 */
	for (i = 0; !err && i < npfree; i++) {
		struct cpa_xino_freeblk fb;

		cpa_xino_freeblk_encode(&fb, pfree[i], 0);
		err = cpa_xino_pwrite(xi, cpa_xino_off(pfree[i]), &fb,
				      sizeof(fb));
	}
	if (!err && npfree) {
		err = vfs_fsync(xi->file, 1);
		any = true;
	}
	/* Nothing points to blocks that did not reach the file. */
	if (!err && (meta || hdr)) {
		xa_for_each(fl, idx, p) {
			if (!cpa_xino_is_slot_blk(slot_blk, idx))
				continue;
			e = cpa_xino_pwrite(xi, cpa_xino_off(idx), p,
					    CPA_XINO_BLK);
			err = err ?: e;
		}
		if (!err && hdr) {
			e = cpa_xino_pwrite(xi, cpa_xino_off(le64_to_cpu(h.seq) & 1),
					    &h, sizeof(h));
			err = err ?: e;
		}
		any = true;
	}
	cpa_revert_creds(old);
	memalloc_nofs_restore(nofs);

	nofs = cpa_xino_lock(xi);
	/*
	 * Written outside the queues: a lookup may have kept what they held
	 * before (the header blocks are read at mount only).
	 */
	for (i = 0; i < npfree; i++)
		cpa_xino_clean_forget(xi, pfree[i]);
	if (err) {
		cpa_xino_requeue(xi, fl, hdr, pfree, npfree);
		pfree = NULL;
		npfree = 0;
	}
	xa_for_each(fl, idx, p)
		kfree(p);
	xa_destroy(fl);
	for (i = 0; i < npfree; i++)
		if (cpa_xino_free_blk(xi, pfree[i]))
			break;
	cpa_xino_unlock(xi, nofs);
	kfree(pfree);
	if (any)
		atomic_set(&xi->unsynced, 1);
	cpa_xino_write_result(xi, err);
	mutex_unlock(&xi->flush_lock);
	return err;
}

/* Drop what is queued, unwritten.  Under lock, the work item stopped. */
static void cpa_xino_discard(struct cpa_xino *xi)
{
	unsigned long idx;
	void *p;

	xa_for_each(xi->dirty, idx, p)
		kfree(p);
	xa_destroy(xi->dirty);
	xi->ndirty = 0;
	xi->hdr_dirty = false;
	cpa_xino_clean_forget_all(xi);
	cpa_xino_reshape(xi);
}

static void cpa_xino_work(struct work_struct *work)
{
	cpa_xino_drain(container_of(to_delayed_work(work), struct cpa_xino,
				    work));
}

/* -- numbers, for the union ------------------------------------------------ */

static bool cpa_xino_is_root(struct cpa_sb_info *sbi, struct cpa_branch *br,
			     u64 h_ino)
{
	return br->id == sbi->first_id &&
	       h_ino == d_inode(br->path.dentry)->i_ino;
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
	struct cpa_xino_map m;
	unsigned int nofs;
	int found, err;

	if (cpa_xino_is_root(sbi, br, h_ino)) {
		*ino = CPA_ROOT_INO;
		return 0;
	}
	if (br->xino_slot == CPA_XINO_NO_SLOT)
		return -EIO;
	nofs = cpa_xino_lock(xi);
	found = cpa_xino_fwd_get(xi, br->xino_slot, h_ino, &m);
	err = found < 0 ? found : 0;
	if (found > 0 && cpa_xino_gen_match(m.gen, gen)) {
		/* Learn the generation that readdir could not see. */
		if (!m.gen && gen) {
			m.gen = gen;
			err = cpa_xino_fwd_put(xi, br->xino_slot, h_ino, &m);
		}
		*ino = m.ino;
	} else if (!err) {
		/*
		 * A new object.  The number of the one it replaces, if any,
		 * stays in use: other records may point at it.
		 */
		m.gen = gen;
		err = cpa_xino_alloc_ino(xi, &m.ino, &m.ngen);
		if (err == -EOVERFLOW)
			pr_err_ratelimited("xino: out of union inode numbers\n");
		if (!err)
			err = cpa_xino_fwd_put(xi, br->xino_slot, h_ino, &m);
		if (!err)
			*ino = m.ino;
	}
	cpa_xino_unlock(xi, nofs);
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
	struct cpa_xino *xi = CPA_SB(sb)->xino;
	struct cpa_xino_map m;
	unsigned int nofs;
	int found;

	if (cpa_xino_is_root(CPA_SB(sb), br, h_inode->i_ino)) {
		*ino = CPA_ROOT_INO;
		return 0;
	}
	if (br->xino_slot == CPA_XINO_NO_SLOT)
		return -ENOENT;
	nofs = cpa_xino_lock(xi);
	found = cpa_xino_fwd_get(xi, br->xino_slot, h_inode->i_ino, &m);
	cpa_xino_unlock(xi, nofs);
	if (found < 0)
		return found;
	if (!found || !cpa_xino_gen_match(m.gen, h_inode->i_generation))
		return -ENOENT;
	*ino = m.ino;
	return 0;
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
	struct cpa_xino_revst rv;
	struct cpa_xino_map m, cur;
	unsigned int nofs;
	int found, err;

	if (WARN_ON_ONCE(ino > CPA_XINO_INO_MAX || ino < CPA_FIRST_INO))
		return -EOVERFLOW;
	if (cpa_xino_is_root(sbi, br, h_inode->i_ino))
		return 0;
	if (br->xino_slot == CPA_XINO_NO_SLOT)
		return -EIO;
	m.ino = ino;
	m.gen = h_inode->i_generation;
	nofs = cpa_xino_lock(xi);
	err = cpa_xino_rev_get(xi, ino, &rv);
	if (err)
		goto out;
	if (rv.state > 0 && (rv.flags & CPA_XINO_USED)) {
		m.ngen = rv.ngen;
	} else {
		/* A number from elsewhere must never be handed out again. */
		err = cpa_xino_take(xi, ino, &rv, &m.ngen);
		if (err)
			goto out;
	}
	found = cpa_xino_fwd_get(xi, br->xino_slot, h_inode->i_ino, &cur);
	if (found < 0) {
		err = found;
		goto out;
	}
	if (!found || cur.ino != m.ino || cur.gen != m.gen ||
	    cur.ngen != m.ngen)
		err = cpa_xino_fwd_put(xi, br->xino_slot, h_inode->i_ino, &m);
out:
	cpa_xino_unlock(xi, nofs);
	return err;
}

/*
 * Evict of union inode @ino whose object was removed through the union
 * (its link count is 0): the number is free again.  Bumping its ngen makes
 * every record that names it invalid at once (the lower object of a
 * copied-up file, aliases); the record of the object that backed it last,
 * branch inode @h_ino of @br, is cleared, and its leaf freed when that
 * empties it.  The inode is being evicted, so no cached inode has the
 * number: it waits in the free part of the table until the cursor comes
 * round to it.  With a file, all this waits until the removal is on disk
 * (cpa_xino_apply_gone()), the number in use until then.
 */
void cpa_xino_forget(struct super_block *sb, struct cpa_branch *br,
		     u64 h_ino, unsigned long ino)
{
	struct cpa_xino *xi = CPA_SB(sb)->xino;
	struct cpa_xino_gone g, *p;
	unsigned int nofs, cap;
	int err = 0;

	if (!xi || ino < CPA_FIRST_INO || ino > CPA_XINO_INO_MAX)
		return;
	g.h_ino = h_ino;
	g.slot = br ? br->xino_slot : CPA_XINO_NO_SLOT;
	g.ino = ino;
	nofs = cpa_xino_lock(xi);
	if (!xi->file) {
		err = cpa_xino_free_ino(xi, &g);
		goto out;
	}
	if (xi->ngone == xi->gone_cap) {
		cap = max(2 * xi->gone_cap, 64U);
		p = krealloc(xi->gone, cap * sizeof(*p), GFP_KERNEL);
		if (!p) {
			err = -ENOMEM;	/* stays in use */
			goto out;
		}
		xi->gone = p;
		xi->gone_cap = cap;
	}
	xi->gone[xi->ngone++] = g;
	cpa_xino_kick(xi);
out:
	cpa_xino_unlock(xi, nofs);
	if (err)
		pr_warn_ratelimited("xino: cannot free number %lu (error %d)\n",
				    ino, err);
}

/*
 * The generation of union number @ino: its ngen, which freeing the number
 * bumps, so that whoever holds an old (number, generation) pair sees
 * another generation once the number is handed out again.  0 for the
 * root and without numbers.
 */
u32 cpa_xino_gen(struct super_block *sb, unsigned long ino)
{
	struct cpa_xino *xi = CPA_SB(sb)->xino;
	struct cpa_xino_revst rv;
	unsigned int nofs;
	int err;

	if (!xi || ino < CPA_FIRST_INO || ino > CPA_XINO_INO_MAX)
		return 0;
	nofs = cpa_xino_lock(xi);
	err = cpa_xino_rev_get(xi, ino, &rv);
	cpa_xino_unlock(xi, nofs);
	return !err && rv.state > 0 ? rv.ngen : 0;
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

/* Write what is queued and sync the xino file (syncfs). */
int cpa_xino_sync(struct super_block *sb)
{
	struct cpa_xino *xi = CPA_SB(sb)->xino;
	int err;

	if (!xi || !xi->file)
		return 0;
	flush_delayed_work(&xi->work);
	atomic_set(&xi->unsynced, 0);
	err = cpa_xino_sync_file(xi, 1);
	if (err)
		atomic_set(&xi->unsynced, 1);
	return err;
}

/*
 * fsync(2) of a union file or directory: the union inode numbers handed out
 * so far must outlive a crash as the data does, or a file fsync'd before a
 * power cut would come back with another number.  Write what is queued,
 * and sync the xino file when something reached it since it was last
 * synced: an fsync that hands out no new number costs nothing more.
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

/* -- opening and loading --------------------------------------------------- */

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

static void cpa_xino_state_init(struct cpa_xino_state *st)
{
	memset(st, 0, sizeof(*st));
	st->nblocks = 2;
	st->cursor = CPA_FIRST_INO;
	st->ino_max = CPA_FIRST_INO;
}

static bool cpa_xino_hdr_valid(const struct cpa_xino_hdr *h)
{
	struct cpa_xino_hdr c = *h;
	u64 nblocks = le64_to_cpu(h->nblocks), b;
	int i;

	if (memcmp(h->magic, CPA_XINO_MAGIC, sizeof(h->magic)) ||
	    le32_to_cpu(h->version) != CPA_XINO_V2)
		return false;
	c.csum = 0;
	if (le32_to_cpu(h->csum) != cpa_xino_csum(&c, sizeof(c)) ||
	    le32_to_cpu(h->blksize) != CPA_XINO_BLK ||
	    nblocks < 2 || nblocks > CPA_XINO_BLK_MAX ||
	    le64_to_cpu(h->free_head) >= nblocks ||
	    le32_to_cpu(h->nslots) > CPA_XINO_MAX_SLOTS ||
	    le32_to_cpu(h->rev_height) > CPA_XINO_MAX_HEIGHT ||
	    le64_to_cpu(h->ino_max) > CPA_XINO_INO_MAX + 1)
		return false;
	for (i = 0; i < CPA_XINO_NSLOTBLK; i++) {
		b = le64_to_cpu(h->slot_blk[i]);
		if (b && (b < 2 || b >= nblocks))
			return false;
	}
	return true;
}

static void cpa_xino_hdr_decode(const struct cpa_xino_hdr *h,
				struct cpa_xino_state *st)
{
	int i;

	st->seq = le64_to_cpu(h->seq);
	st->flags = le32_to_cpu(h->flags);
	st->nblocks = le64_to_cpu(h->nblocks);
	st->free_head = le64_to_cpu(h->free_head);
	st->nfree = le64_to_cpu(h->nfree);
	st->nslots = le32_to_cpu(h->nslots);
	st->rev.height = le32_to_cpu(h->rev_height);
	st->rev.root = le64_to_cpu(h->rev_root);
	st->cursor = le64_to_cpu(h->cursor);
	st->ino_max = max_t(u64, le64_to_cpu(h->ino_max), CPA_FIRST_INO);
	st->live = le64_to_cpu(h->live);
	for (i = 0; i < CPA_XINO_NSLOTBLK; i++)
		st->slot_blk[i] = le64_to_cpu(h->slot_blk[i]);
}

/* Read the slot table: what identifies each branch, and its tree. */
static int cpa_xino_load_slots(struct cpa_xino *xi)
{
	const struct cpa_xino_slotrec *r = xi->scratch;
	u32 n = xi->st.nslots, i, bad = 0;
	int err;

	err = cpa_xino_slots_grow(xi, n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		u64 blk = xi->st.slot_blk[i / CPA_XINO_SLOTS_PER_BLK];

		if (!blk) {
			memset(&xi->slots[i], 0, sizeof(xi->slots[i]));
			continue;
		}
		if (!(i % CPA_XINO_SLOTS_PER_BLK)) {
			err = cpa_xino_read(xi, blk, 0, xi->scratch,
					    CPA_XINO_BLK);
			if (err)
				return err;
		}
		if (cpa_xino_slot_decode(&r[i % CPA_XINO_SLOTS_PER_BLK],
					 &xi->slots[i]) < 0)
			bad++;
	}
	if (bad)
		pr_warn("xino %s: skipped %u damaged branch slots\n", xi->path,
			bad);
	return 0;
}

/* -- after a crash: one walk over the trees -------------------------------- */

/* Sets of numbers: bit n of the value at index n / 32. */
static int cpa_xino_bit_set(struct xarray *xa, u64 n)
{
	void *e = xa_load(xa, n >> 5);
	unsigned long v = e ? xa_to_value(e) : 0;

	if (v & BIT(n & 31))
		return 1;
	v |= BIT(n & 31);
	return xa_err(xa_store(xa, n >> 5, xa_mk_value(v), GFP_KERNEL));
}

static bool cpa_xino_bit_test(struct xarray *xa, u64 n)
{
	void *e = xa_load(xa, n >> 5);

	return e && (xa_to_value(e) & BIT(n & 31));
}

struct cpa_xino_walk {
	struct xarray used;	/* numbers a valid forward record names */
	struct xarray reach;	/* blocks in use */
	u64 max_blk;
	u64 max_ino;		/* highest number with a ngen */
	u64 live;
	unsigned long bad;
	int (*leaf)(struct cpa_xino *xi, struct cpa_xino_walk *w, u32 id,
		    u64 prefix, u64 blk, void *buf);
};

/*
 * Walk block @blk, at @level of a tree, with key prefix @prefix: 1 when it
 * is a free block that a crash left a pointer to (the caller drops the
 * pointer).
 */
static int cpa_xino_walk_tree(struct cpa_xino *xi, struct cpa_xino_walk *w,
			      u32 id, unsigned int shift, u32 level,
			      u64 prefix, u64 blk)
{
	__le64 *buf, *p;
	u64 ptr, child, cprefix;
	unsigned int i;
	int err;

	buf = kmalloc(CPA_XINO_BLK, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	err = cpa_xino_read(xi, blk, 0, buf, CPA_XINO_BLK);
	if (!err && !memcmp(buf, CPA_XINO_FREE_MAGIC,
			    sizeof(CPA_XINO_FREE_MAGIC) - 1)) {
		kfree(buf);
		return 1;
	}
	if (!err)
		err = cpa_xino_bit_set(&w->reach, blk);
	w->max_blk = max(w->max_blk, blk);
	if (!err && !level)
		err = w->leaf(xi, w, id, prefix, blk, buf);
	for (i = 0; !err && level && i < CPA_XINO_PTRS; i++) {
		ptr = le64_to_cpu(buf[i]);
		cprefix = (prefix << CPA_XINO_PTR_SHIFT) | i;
		child = cpa_xino_ptr_blk(ptr, id, level - 1, cprefix);
		if (!child) {
			if (ptr)
				w->bad++;
			continue;
		}
		if (cpa_xino_bit_test(&w->reach, child)) {
			w->bad++;	/* named twice: walked once */
			continue;
		}
		err = cpa_xino_walk_tree(xi, w, id, shift, level - 1, cprefix,
					 child);
		if (err > 0) {
			p = cpa_xino_modify(xi, blk, false);
			err = IS_ERR(p) ? PTR_ERR(p) : 0;
			if (!err) {
				cpa_xino_reshape(xi);
				p[i] = 0;
			}
		}
		cond_resched();
	}
	kfree(buf);
	return err;
}

/* Walk tree @t; 1 when its root is a free block, as the caller is told. */
static int cpa_xino_walk_root(struct cpa_xino *xi, struct cpa_xino_walk *w,
			      struct cpa_xino_tree *t, u32 id,
			      unsigned int shift)
{
	u64 blk;

	if (!t->height)
		return 0;
	blk = cpa_xino_ptr_blk(t->root, id, t->height - 1, 0);
	if (!blk || cpa_xino_bit_test(&w->reach, blk)) {
		w->bad++;
		return 0;
	}
	return cpa_xino_walk_tree(xi, w, id, shift, t->height - 1, 0, blk);
}

/* A forward leaf: the numbers its valid records name are in use. */
static int cpa_xino_walk_fwd(struct cpa_xino *xi, struct cpa_xino_walk *w,
			     u32 id, u64 prefix, u64 blk, void *buf)
{
	const struct cpa_xino_fwd *r = buf;
	struct cpa_xino_revst rv;
	u32 i, ino, ngen;
	u64 h_ino;
	int err;

	for (i = 0; i < (1U << CPA_XINO_FWD_SHIFT); i++) {
		if (!memchr_inv(&r[i], 0, sizeof(r[i])))
			continue;
		h_ino = (prefix << CPA_XINO_FWD_SHIFT) | i;
		if (r[i].csum != cpa_xino_fwd_csum(&r[i], id, h_ino)) {
			w->bad++;
			continue;
		}
		ino = le32_to_cpu(r[i].ino);
		ngen = le32_to_cpu(r[i].ngen);
		if (!ngen || ino < CPA_FIRST_INO || ino > CPA_XINO_INO_MAX)
			continue;
		err = cpa_xino_rev_get(xi, ino, &rv);
		if (err)
			return err;
		if (rv.state > 0 && rv.ngen == ngen) {
			err = cpa_xino_bit_set(&w->used, ino);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

/* A reverse leaf: USED again exactly when a valid record names it. */
static int cpa_xino_walk_rev(struct cpa_xino *xi, struct cpa_xino_walk *w,
			     u32 id, u64 prefix, u64 blk, void *buf)
{
	const struct cpa_xino_rev *e = buf;
	struct cpa_xino_rev *ne = NULL;
	struct cpa_xino_revst rv;
	bool used;
	u64 n;
	u32 i;

	for (i = 0; i < (1U << CPA_XINO_REV_SHIFT); i++) {
		n = (prefix << CPA_XINO_REV_SHIFT) | i;
		cpa_xino_rev_decode(&e[i], n, &rv);
		if (rv.state < 0)
			w->bad++;	/* never handed out again */
		if (rv.state <= 0 || n < CPA_FIRST_INO)
			continue;
		used = cpa_xino_bit_test(&w->used, n);
		if (used != !!(rv.flags & CPA_XINO_USED)) {
			if (!ne) {
				ne = cpa_xino_modify(xi, blk, false);
				if (IS_ERR(ne))
					return PTR_ERR(ne);
			}
			cpa_xino_rev_encode(&ne[i], n, rv.ngen,
					    used ? CPA_XINO_USED : 0);
		}
		if (used)
			w->live++;
		if (rv.ngen)
			w->max_ino = max(w->max_ino, n);
	}
	return 0;
}

/*
 * The file was not unmounted cleanly: rebuild the USED flags, the
 * allocator and the free list from the trees.  Under lock.
 */
static int cpa_xino_recover(struct cpa_xino *xi)
{
	struct cpa_xino_state *st = &xi->st;
	struct cpa_xino_walk w = {};
	u64 blk, size;
	u32 i;
	int err = 0;

	xa_init(&w.used);
	xa_init(&w.reach);
	w.max_blk = 1;
	for (i = 0; !err && i < CPA_XINO_NSLOTBLK; i++) {
		if (!st->slot_blk[i])
			continue;
		err = cpa_xino_bit_set(&w.reach, st->slot_blk[i]);
		w.max_blk = max(w.max_blk, st->slot_blk[i]);
	}
	if (err > 0)
		err = 0;	/* named twice: a damaged header */
	w.leaf = cpa_xino_walk_fwd;
	for (i = 0; !err && i < st->nslots; i++) {
		if (!xi->slots[i].ok)
			continue;
		err = cpa_xino_walk_root(xi, &w, &xi->slots[i].fwd, i,
					 CPA_XINO_FWD_SHIFT);
		if (err > 0) {
			w.bad++;
			xi->slots[i].fwd.root = 0;
			xi->slots[i].fwd.height = 0;
			err = cpa_xino_slot_write(xi, i);
		}
	}
	w.leaf = cpa_xino_walk_rev;
	if (!err)
		err = cpa_xino_walk_root(xi, &w, &st->rev, CPA_XINO_REV_ID,
					 CPA_XINO_REV_SHIFT);
	if (err > 0) {
		w.bad++;
		st->rev.root = 0;
		st->rev.height = 0;
		err = 0;
	}
	if (err)
		goto out;
	st->live = w.live;
	st->ino_max = max_t(u64, w.max_ino + 1, CPA_FIRST_INO);
	st->cursor = st->ino_max;
	size = xi->file ? i_size_read(xi->inode) : 0;
	st->nblocks = max3(w.max_blk + 1,
			   (u64)DIV_ROUND_UP(size, CPA_XINO_BLK), (u64)2);
	st->free_head = 0;
	st->nfree = 0;
	/* Free once marked free on disk, as the next write does. */
	for (blk = st->nblocks - 1; !err && blk >= 2; blk--)
		if (!cpa_xino_bit_test(&w.reach, blk))
			err = cpa_xino_release_blk(xi, blk);
	if (!err)
		cpa_xino_hdr_changed(xi);
	if (w.bad)
		pr_warn("xino %s: %lu damaged entries ignored\n", xi->path,
			w.bad);
out:
	xa_destroy(&w.used);
	xa_destroy(&w.reach);
	return err;
}

/* -- format 1: converted once ---------------------------------------------- */

/* What a format 1 file says, every branch of it. */
struct cpa_xino_v1 {
	struct xarray slots;		/* its slot -> index + 1 in keys */
	struct cpa_xino_brkey *keys;
	struct xarray **maps;		/* [nkeys]: h_ino -> ino << 32 | gen */
	u32 nkeys, cap;
	u64 max_ino;			/* highest number ever handed out */
	unsigned long bad;		/* records skipped */
};

static int cpa_xino_v1_branch(struct cpa_xino_v1 *v,
			      const struct cpa_xino_rec_branch *rec)
{
	u32 slot = le32_to_cpu(rec->head.slot);
	struct cpa_xino_brkey *keys;
	struct xarray **maps;
	int err;

	if (slot == CPA_XINO_NO_SLOT) {
		v->bad++;
		return 0;
	}
	if (xa_load(&v->slots, slot))
		return 0;	/* given twice: the first one counts */
	if (v->nkeys == v->cap) {
		u32 cap = max(2 * v->cap, 8U);

		keys = krealloc(v->keys, cap * sizeof(*keys), GFP_KERNEL);
		if (!keys)
			return -ENOMEM;
		v->keys = keys;
		maps = krealloc(v->maps, cap * sizeof(*maps), GFP_KERNEL);
		if (!maps)
			return -ENOMEM;
		v->maps = maps;
		v->cap = cap;
	}
	v->maps[v->nkeys] = kmalloc(sizeof(struct xarray), GFP_KERNEL);
	if (!v->maps[v->nkeys])
		return -ENOMEM;
	xa_init(v->maps[v->nkeys]);
	keys = &v->keys[v->nkeys];
	memset(keys, 0, sizeof(*keys));
	memcpy(&keys->uuid, rec->uuid, sizeof(keys->uuid));
	keys->root_ino = le64_to_cpu(rec->root_ino);
	keys->root_gen = le32_to_cpu(rec->root_gen);
	keys->s_magic = le32_to_cpu(rec->s_magic);
	v->nkeys++;
	err = xa_err(xa_store(&v->slots, slot, xa_mk_value(v->nkeys),
			      GFP_KERNEL));
	if (err) {
		v->nkeys--;
		xa_destroy(v->maps[v->nkeys]);
		kfree(v->maps[v->nkeys]);
	}
	return err;
}

static int cpa_xino_v1_map(struct cpa_xino_v1 *v,
			   const struct cpa_xino_rec_map *rec)
{
	u64 ino = le64_to_cpu(rec->ino);
	void *e;

	if (ino < CPA_FIRST_INO || ino > CPA_XINO_INO_MAX) {
		v->bad++;
		return 0;
	}
	v->max_ino = max(v->max_ino, ino);
	e = xa_load(&v->slots, le32_to_cpu(rec->head.slot));
	if (!e)
		return 0;	/* a slot no branch record gave */
	/* A later record of the same branch inode replaces an earlier one. */
	return xa_err(xa_store(v->maps[xa_to_value(e) - 1],
			       le64_to_cpu(rec->h_ino),
			       xa_mk_value(ino << 32 | le32_to_cpu(rec->h_gen)),
			       GFP_KERNEL));
}

/* Parse the records in @buf[0, @len): the bytes used, or an error. */
static ssize_t cpa_xino_v1_parse(struct cpa_xino_v1 *v, const char *buf,
				 size_t len)
{
	size_t off = 0;
	int err;

	while (len - off >= CPA_XINO_V1_UNIT) {
		const struct cpa_xino_rec_head *h = (const void *)(buf + off);
		size_t rlen = le16_to_cpu(h->units) * CPA_XINO_V1_UNIT;
		u16 type = le16_to_cpu(h->type);

		/* Zeros: space a crash allocated but never wrote. */
		if (!memchr_inv(h, 0, CPA_XINO_V1_UNIT)) {
			off += CPA_XINO_V1_UNIT;
			continue;
		}
		if (!rlen || rlen > sizeof(struct cpa_xino_rec_branch)) {
			v->bad++;
			off += CPA_XINO_V1_UNIT;
			continue;
		}
		if (len - off < rlen)
			break;
		if (le32_to_cpu(h->csum) !=
		    cpa_xino_csum(buf + off + sizeof(h->csum),
				  rlen - sizeof(h->csum))) {
			v->bad++;
			off += CPA_XINO_V1_UNIT;
			continue;
		}
		err = 0;
		if (type == CPA_XINO_T_BRANCH &&
		    rlen == 2 * CPA_XINO_V1_UNIT)
			err = cpa_xino_v1_branch(v, (const void *)h);
		else if (type == CPA_XINO_T_MAP && rlen == CPA_XINO_V1_UNIT)
			err = cpa_xino_v1_map(v, (const void *)h);
		else
			v->bad++;
		if (err)
			return err;
		off += rlen;
	}
	return off;
}

/* Read every record of the format 1 file. */
static int cpa_xino_v1_read(struct cpa_xino *xi, struct file *file,
			    struct cpa_xino_v1 *v)
{
	loff_t pos = CPA_XINO_V1_HDR;
	size_t have = 0;
	ssize_t n, used;
	char *buf;
	int err = 0;

	buf = kvmalloc(CPA_XINO_CHUNK, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		n = kernel_read(file, buf + have, CPA_XINO_CHUNK - have, &pos);
		if (n < 0) {
			err = n;
			break;
		}
		have += n;
		used = cpa_xino_v1_parse(v, buf, have);
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
	return err;
}

static void cpa_xino_v1_free(struct cpa_xino_v1 *v)
{
	u32 i;

	for (i = 0; i < v->nkeys; i++) {
		xa_destroy(v->maps[i]);
		kfree(v->maps[i]);
	}
	kfree(v->maps);
	kfree(v->keys);
	xa_destroy(&v->slots);
}

static bool cpa_xino_v1_hdr_ok(const struct cpa_xino_v1_hdr *h)
{
	struct cpa_xino_v1_hdr c = *h;

	c.csum = 0;
	return le32_to_cpu(h->csum) == cpa_xino_csum(&c, sizeof(c)) &&
	       le32_to_cpu(h->hdr_size) == CPA_XINO_V1_HDR &&
	       le32_to_cpu(h->unit) == CPA_XINO_V1_UNIT;
}

/* Fill the (empty) tables from @v, every number as it was.  Under lock. */
static int cpa_xino_v1_convert(struct cpa_xino *xi, struct cpa_xino_v1 *v,
			       unsigned int *nofs)
{
	struct cpa_xino_revst rv;
	struct cpa_xino_map m;
	unsigned long h_ino, val;
	u32 k, slot;
	void *e;
	int err;

	for (k = 0; k < v->nkeys; k++) {
		err = cpa_xino_slot_find(xi, &v->keys[k], &slot);
		if (err)
			return err;
		xa_for_each(v->maps[k], h_ino, e) {
			val = xa_to_value(e);
			m.ino = val >> 32;
			m.gen = (u32)val;
			err = cpa_xino_rev_get(xi, m.ino, &rv);
			if (!err && rv.state > 0 && (rv.flags & CPA_XINO_USED))
				m.ngen = rv.ngen;
			else if (!err)
				err = cpa_xino_take(xi, m.ino, &rv, &m.ngen);
			if (!err)
				err = cpa_xino_fwd_put(xi, slot, h_ino, &m);
			if (err)
				return err;
			if (xi->ndirty >= 4 * CPA_XINO_BATCH) {
				cpa_xino_unlock(xi, *nofs);
				err = cpa_xino_drain(xi);
				*nofs = cpa_xino_lock(xi);
				if (err)
					return err;
			}
		}
	}
	xi->st.ino_max = max(xi->st.ino_max, v->max_ino + 1);
	xi->st.cursor = xi->st.ino_max;
	return 0;
}

static int cpa_xino_replace(struct cpa_xino *xi, struct file *tmp,
			    struct file *old)
{
	struct dentry *parent = dget_parent(old->f_path.dentry);
	struct name_snapshot name;
	struct cpa_renaming rn;
	const struct cred *cred;
	int err;

	cred = override_creds(xi->sbi->creator_cred);
	take_dentry_name_snapshot(&name, old->f_path.dentry);
	err = mnt_want_write(old->f_path.mnt);
	if (!err) {
		err = cpa_start_renaming(&rn, parent, tmp->f_path.dentry,
					 parent, &name.name);
		if (!err) {
			/* Replace the file that was read, or nothing. */
			if (d_inode(rn.new) != file_inode(old))
				err = -ESTALE;
			else
				err = cpa_do_rename(parent, rn.old, parent,
						    rn.new, 0);
			cpa_end_renaming(&rn);
		}
		mnt_drop_write(old->f_path.mnt);
	}
	release_dentry_name_snapshot(&name);
	cpa_revert_creds(cred);
	dput(parent);
	return err;
}

static void cpa_xino_unlink(struct cpa_xino *xi, struct file *file)
{
	struct dentry *d = file->f_path.dentry;
	struct dentry *parent = dget_parent(d);
	const struct cred *cred;

	cred = override_creds(xi->sbi->creator_cred);
	if (!mnt_want_write(file->f_path.mnt)) {
		inode_lock_nested(d_inode(parent), I_MUTEX_PARENT);
		if (d->d_parent == parent && d_is_positive(d) &&
		    !d_unhashed(d))
			cpa_do_unlink(d_inode(parent), d);
		inode_unlock(d_inode(parent));
		mnt_drop_write(file->f_path.mnt);
	}
	cpa_revert_creds(cred);
	dput(parent);
}

/*
 * Create <file>.v2 for the conversion of a format 1 file.  Not under
 * xi->lock: creating takes the branch's sb_writers, and copy-up takes
 * sb_writers, then xi->lock.
 */
static struct file *cpa_xino_create_tmp(struct cpa_xino *xi,
					struct fs_context *fc,
					const char *path)
{
	const struct cred *cred;
	struct file *tmp;
	char *name;

	name = kasprintf(GFP_KERNEL, "%s.v2", xi->path);
	if (!name)
		return ERR_PTR(-ENOMEM);
	cred = override_creds(xi->sbi->creator_cred);
	tmp = filp_open(name, O_RDWR | O_CREAT | O_TRUNC | O_LARGEFILE |
			O_NOFOLLOW | O_NONBLOCK, 0600);
	cpa_revert_creds(cred);
	kfree(name);
	if (IS_ERR(tmp))
		return ERR_PTR(cpa_invalf(fc, "xino: %s: cannot convert: cannot create %s.v2 (error %ld)",
					  path, path, PTR_ERR(tmp)));
	if (!S_ISREG(file_inode(tmp)->i_mode) ||
	    file_inode(tmp)->i_sb != xi->inode->i_sb) {
		fput(tmp);
		return ERR_PTR(cpa_invalf(fc, "xino: %s: cannot convert: %s.v2 is not a regular file",
					  path, path));
	}
	tmp->f_flags &= ~O_NONBLOCK;
	return tmp;
}

/*
 * The file is in format 1, the log of before: read it once, write the same
 * numbers in format 2 to @tmp (<file>.v2), sync it and rename it over the
 * file.  A crash leaves the old file or the new one, both whole.  Under
 * lock; @tmp is the mount's from here on, kept or unlinked.
 */
static int cpa_xino_upgrade(struct cpa_xino *xi, struct fs_context *fc,
			    const char *path, struct file *tmp,
			    unsigned int *nofs)
{
	struct file *old = xi->file;
	struct cpa_xino_v1 v = {};
	int err;

	xa_init(&v.slots);
	cpa_xino_clean_forget_all(xi);
	xi->file = tmp;
	err = cpa_xino_v1_read(xi, old, &v);
	if (err) {
		err = cpa_invalf(fc, "xino: %s: read error %d", path, err);
		goto undo;
	}
	if (v.bad)
		pr_warn("xino %s: skipped %lu damaged records\n", path, v.bad);
	cpa_xino_state_init(&xi->st);
	err = cpa_xino_v1_convert(xi, &v, nofs);
	if (!err) {
		/* Whole and synced before it takes the old one's place. */
		xi->st.flags = CPA_XINO_CLEAN;
		xi->hdr_dirty = true;
		cpa_xino_unlock(xi, *nofs);
		err = cpa_xino_drain(xi);
		if (!err)
			err = cpa_xino_sync_file(xi, 0);
		if (!err)
			err = cpa_xino_replace(xi, tmp, old);
		*nofs = cpa_xino_lock(xi);
	}
	if (err) {
		err = cpa_invalf(fc, "xino: %s: cannot convert to format 2 (error %d)",
				 path, err);
		goto undo;
	}
	mutex_lock(&cpa_xino_files_lock);
	xi->inode = file_inode(tmp);
	mutex_unlock(&cpa_xino_files_lock);
	fput(old);
	pr_info("xino %s: converted to format 2 (%llu numbers in use)\n", path,
		xi->st.live);
	cpa_xino_v1_free(&v);
	return 0;

undo:
	cpa_xino_unlock(xi, *nofs);
	/* Nothing more reaches the new file, or the old one. */
	cancel_delayed_work_sync(&xi->work);
	cpa_xino_unlink(xi, tmp);
	*nofs = cpa_xino_lock(xi);
	cpa_xino_discard(xi);
	xi->file = old;
	fput(tmp);
	cpa_xino_v1_free(&v);
	return err;
}

/* Give each branch of @brt its slot, found by identity or new. */
static int cpa_xino_add_slots(struct cpa_xino *xi, struct cpa_brtable *brt)
{
	struct cpa_xino_brkey key;
	int i, err;

	for (i = 0; i < brt->nbranch; i++) {
		cpa_xino_brkey(brt->br[i], &key);
		err = cpa_xino_slot_find(xi, &key, &brt->br[i]->xino_slot);
		if (err)
			return err;
	}
	return 0;
}

enum cpa_xino_kind { CPA_XINO_EMPTY, CPA_XINO_OLD, CPA_XINO_CUR };

/*
 * Read both headers and tell what the file is: empty (or a crash right
 * after it was made), format 1, or format 2 with @best the newer valid
 * header.  Before xi->lock: the mount is not live yet.
 */
static int cpa_xino_probe(struct cpa_xino *xi, struct fs_context *fc,
			  const char *path, struct cpa_xino_hdr *h, int *best)
{
	const struct cpa_xino_v1_hdr *v1 = (const void *)&h[0];
	int i, err;

	*best = -1;
	for (i = 0; i < 2; i++) {
		err = cpa_xino_pread(xi, cpa_xino_off(i), &h[i], sizeof(h[i]));
		if (err)
			return cpa_invalf(fc, "xino: %s: read error %d", path,
					  err);
		if (cpa_xino_hdr_valid(&h[i]) &&
		    (*best < 0 || le64_to_cpu(h[i].seq) >
				  le64_to_cpu(h[*best].seq)))
			*best = i;
	}
	if (*best >= 0)
		return CPA_XINO_CUR;
	if (!memcmp(v1->magic, CPA_XINO_MAGIC, sizeof(v1->magic)) &&
	    le32_to_cpu(v1->version) == CPA_XINO_V1) {
		if (!cpa_xino_v1_hdr_ok(v1))
			return cpa_invalf(fc, "xino: %s: corrupt header", path);
		return CPA_XINO_OLD;
	}
	if (!memchr_inv(h, 0, 2 * sizeof(*h)))
		return CPA_XINO_EMPTY;
	for (i = 0; i < 2; i++) {
		u32 ver = le32_to_cpu(h[i].version);

		if (memcmp(h[i].magic, CPA_XINO_MAGIC, sizeof(h[i].magic)))
			continue;
		if (ver != CPA_XINO_V1 && ver != CPA_XINO_V2)
			return cpa_invalf(fc, "xino: %s: unsupported version %u",
					  path, ver);
		return cpa_invalf(fc, "xino: %s: corrupt header", path);
	}
	return cpa_invalf(fc,
		"xino: %s: not a cppaufs xino file (remove it or choose another)",
		path);
}

/*
 * Open the file's tables, converting a format 1 file first, and after a
 * crash rebuild what the header does not say.  What writes to the branch
 * (truncating, creating the conversion's file) comes before xi->lock.
 */
static int cpa_xino_load(struct cpa_xino *xi, struct fs_context *fc,
			 const char *path)
{
	struct cpa_xino_hdr *h = NULL;
	struct file *tmp = NULL;
	unsigned int nofs;
	int kind = CPA_XINO_EMPTY, best = -1, err = 0;

	if (xi->file) {
		h = kmalloc_array(2, sizeof(*h), GFP_KERNEL);
		if (!h)
			return -ENOMEM;
		kind = cpa_xino_probe(xi, fc, path, h, &best);
		if (kind < 0) {
			err = kind;
			goto out;
		}
	}
	if (kind == CPA_XINO_EMPTY && xi->file && i_size_read(xi->inode)) {
		cpa_xino_clean_forget_all(xi);
		err = vfs_truncate(&xi->file->f_path, 0);
		if (err) {
			err = cpa_invalf(fc, "xino: %s: cannot truncate (error %d)",
					 path, err);
			goto out;
		}
	}
	if (kind == CPA_XINO_OLD) {
		tmp = cpa_xino_create_tmp(xi, fc, path);
		if (IS_ERR(tmp)) {
			err = PTR_ERR(tmp);
			goto out;
		}
	}

	nofs = cpa_xino_lock(xi);
	switch (kind) {
	case CPA_XINO_EMPTY:
		cpa_xino_state_init(&xi->st);
		break;
	case CPA_XINO_OLD:
		err = cpa_xino_upgrade(xi, fc, path, tmp, &nofs);
		break;
	default:
		cpa_xino_hdr_decode(&h[best], &xi->st);
		err = cpa_xino_load_slots(xi);
		if (!err && !(xi->st.flags & CPA_XINO_CLEAN))
			err = cpa_xino_recover(xi);
		if (err)
			err = cpa_invalf(fc, "xino: %s: cannot load (error %d)",
					 path, err);
	}
	/* Trees read, converted or walked: nothing found before counts. */
	cpa_xino_reshape(xi);
	if (!err)
		err = cpa_xino_add_slots(xi, cpa_brt(xi->sbi));
	if (!err && xi->file) {
		/* Unclean until an unmount says otherwise. */
		xi->st.flags &= ~CPA_XINO_CLEAN;
		xi->hdr_dirty = true;
	}
	cpa_xino_unlock(xi, nofs);
	if (!err && xi->file) {
		err = cpa_xino_drain(xi);
		if (!err)
			err = cpa_xino_sync_file(xi, 1);
		if (err)
			err = cpa_invalf(fc, "xino: %s: write error %d", path,
					 err);
	}
out:
	kfree(h);
	return err;
}

/*
 * A branch joins a mounted union (brops.c): find its slot by its identity,
 * or give it one.
 */
int cpa_xino_add_branch(struct fs_context *fc, struct cpa_sb_info *sbi,
			struct cpa_branch *br)
{
	struct cpa_xino *xi = sbi->xino;
	struct cpa_xino_brkey key;
	unsigned int nofs;
	int err;

	br->xino_slot = CPA_XINO_NO_SLOT;
	if (!xi)
		return 0;
	cpa_xino_brkey(br, &key);
	nofs = cpa_xino_lock(xi);
	err = cpa_xino_slot_find(xi, &key, &br->xino_slot);
	cpa_xino_unlock(xi, nofs);
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
	unsigned int nofs;

	if (xi->file) {
		cancel_delayed_work_sync(&xi->work);
		if (!list_empty(&xi->in_use)) {
			mutex_lock(&cpa_xino_files_lock);
			list_del(&xi->in_use);
			mutex_unlock(&cpa_xino_files_lock);
		}
		fput(xi->file);
	}
	nofs = cpa_xino_lock(xi);
	cpa_xino_discard(xi);
	cpa_xino_unlock(xi, nofs);
	kfree(xi->pfree);
	kfree(xi->gone);
	kfree(xi->slots);
	kfree(xi->scratch);
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
	mutex_init(&xi->flush_lock);
	xi->tree_gen = 1;	/* an empty finger has generation 0 */
	INIT_LIST_HEAD(&xi->in_use);
	INIT_DELAYED_WORK(&xi->work, cpa_xino_work);
	xa_init(&xi->xa[0]);
	xa_init(&xi->xa[1]);
	xa_init(&xi->clean);
	xi->dirty = &xi->xa[0];
	xi->flushing = &xi->xa[1];
	xi->sbi = sbi;
	xi->scratch = kmalloc(CPA_XINO_BLK, GFP_KERNEL);
	if (!xi->scratch) {
		kfree(xi);
		return -ENOMEM;
	}
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
	if (ctx->noxino)
		path = NULL;
	err = 0;
	if (path) {
		err = cpa_xino_open(xi, fc, path);
		if (!err)
			err = cpa_xino_claim(xi, fc, path);
		if (!err) {
			sbi->xino_path = cpa_xino_name(xi, path);
			if (!sbi->xino_path)
				err = -ENOMEM;
			xi->path = sbi->xino_path;
		}
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

/*
 * Unmount: write what is queued, sync, and only then mark the file CLEAN,
 * which spares the next mount the walk of a recovery.  Not after a write
 * error: the next mount checks the file.
 */
void cpa_xino_fini(struct cpa_sb_info *sbi)
{
	struct cpa_xino *xi = sbi->xino;
	unsigned int nofs;
	int err;

	if (!xi)
		return;
	sbi->xino = NULL;
	if (xi->file) {
		WRITE_ONCE(xi->closing, true);
		flush_delayed_work(&xi->work);
		err = cpa_xino_drain(xi);
		if (!err)
			err = cpa_xino_sync_file(xi, 0);
		if (err)
			pr_err("xino %s: unmounted unwritten (error %d): numbers handed out since the last write are lost\n",
			       xi->path, err);
		if (!err && !xi->err) {
			nofs = cpa_xino_lock(xi);
			xi->st.flags |= CPA_XINO_CLEAN;
			xi->hdr_dirty = true;
			cpa_xino_unlock(xi, nofs);
			err = cpa_xino_drain(xi);
			if (!err)
				cpa_xino_sync_file(xi, 0);
		}
	}
	cpa_xino_free(xi);
}
