/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cppaufs: names and numbers shared by the kernel module and the tools.
 *
 * Plain C, no kernel-only types and no CONFIG_ tests, so that both the
 * module and the C++ tools can include it.
 */
#ifndef _CPPAUFS_H
#define _CPPAUFS_H

#include <linux/types.h>

/* Filesystem type name, as in /proc/filesystems and mount -t. */
#define CPPAUFS_NAME			"cppaufs"
/* statfs(2) f_type of a cppaufs mount ("CPAU"). */
#define CPPAUFS_SUPER_MAGIC		0x43504155

/* Most branches one mount can stack. */
#define CPPAUFS_BRANCH_MAX		1023

/* Longest string value fsconfig(2) takes, so the helper sends branches in
 * pieces of at most this many bytes (repeated br= options append). */
#define CPPAUFS_FSCONFIG_STRING_MAX	255

/* Branch permissions, as written after '=' in a branch spec. */
#define CPPAUFS_PERM_RW			"rw"	/* writable */
#define CPPAUFS_PERM_RO			"ro"	/* read-only through the union */
#define CPPAUFS_PERM_RR			"rr"	/* really read-only: fs is ro */

/* Mount options. */
#define CPPAUFS_OPT_DIRS		"dirs"	/* colon-separated branches */
#define CPPAUFS_OPT_BR			"br"	/* alias of dirs */
#define CPPAUFS_OPT_SI			"si"	/* shown in /proc/mounts only */
#define CPPAUFS_BRANCH_SEP		':'
#define CPPAUFS_PERM_SEP		'='

/*
 * On-disk names, identical to aufs so that aufs branches mount unchanged.
 * A name starting with the whiteout prefix is never visible in the union.
 */
#define CPPAUFS_WH_PREFIX		".wh."
#define CPPAUFS_WH_PREFIX_LEN		4
/* ".wh.<name>" in a branch hides <name> in every lower branch. */
/*
 * A name of more than NAME_MAX - 4 bytes, which ".wh.<name>" cannot hold,
 * is hidden by ".wh..wh.long.<digest>" instead: the first 16 bytes of the
 * name's SHA-256 in lower-case hex.  aufs takes every ".wh..wh." name for
 * an internal file, so it ignores these (it cannot hold such names).
 */
#define CPPAUFS_WH_LONG			".wh..wh.long."
#define CPPAUFS_WH_LONG_DIGEST		16	/* bytes of the digest used */
/* The opaque marker: a directory holding it hides all lower branches. */
#define CPPAUFS_WH_OPQ			".wh..wh..opq"
/* Base file that every whiteout is a hard link to. */
#define CPPAUFS_WH_BASE			".wh..wh.aufs"
/* Internal directories of a writable branch. */
#define CPPAUFS_WH_PLINK		".wh..wh.plnk"
/*
 * In it, "<ino>" is the copy of union inode <ino>, a hard-linked lower
 * file, and the size of the empty file "<ino>.lower" is how many of the
 * lower file's names are still visible, the others being whited out or
 * copied up.
 */
#define CPPAUFS_PLINK_LOWER		".lower"
#define CPPAUFS_WH_ORPH			".wh..wh.orph"
/*
 * Extended attributes the union keeps for itself on branch objects; they
 * are never visible through the union.  The metacopy mark says that a
 * regular file holds metadata only and its data is that of the same name
 * in the branches below.
 */
#define CPPAUFS_XATTR_PREFIX		"trusted.cppaufs."
#define CPPAUFS_XATTR_METACOPY		CPPAUFS_XATTR_PREFIX "metacopy"
/* Mount options: metadata-only copy-up on (default) or off. */
#define CPPAUFS_OPT_METACOPY		"metacopy"
#define CPPAUFS_OPT_NOMETACOPY		"nometacopy"
#define CPPAUFS_OPT_UDBA		"udba"	/* none|reval|notify */
#define CPPAUFS_OPT_CREATE		"create"	/* tdp|rr|mfs|pmfs */
#define CPPAUFS_OPT_CPUP		"cpup"	/* tdp|bup|bu */
/* statfs: branch 0 (default), every branch, or the writable ones, summed */
#define CPPAUFS_OPT_NOSUM		"nosum"
#define CPPAUFS_OPT_SUM			"sum"
#define CPPAUFS_OPT_WSUM		"wsum"
/* Default xino file name, created in the first writable branch. */
#define CPPAUFS_XINO_NAME		".aufs.xino"

/* sysfs: /sys/fs/cppaufs/si_<id>/{br<N>,brid<N>,xi_path} */
#define CPPAUFS_SYSFS_DIR		"/sys/fs/" CPPAUFS_NAME
#define CPPAUFS_SYSFS_SI_PREFIX		"si_"
#define CPPAUFS_SYSFS_BR_PREFIX		"br"
#define CPPAUFS_SYSFS_BRID_PREFIX	"brid"
#define CPPAUFS_SYSFS_XI_PATH		"xi_path"
/* si ids are printed as this many lowercase hex digits. */
#define CPPAUFS_SI_ID_DIGITS		16

#endif /* _CPPAUFS_H */
