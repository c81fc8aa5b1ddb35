# cppaufs top-level Makefile.
#
#   make                 module for KDIR + tools
#   make KDIR=/lib/modules/<kver>/build module
#   make modules-all     the module for every installed kernel (build/mod/<kver>)
#   make check           set-up, unit tests and VM tests on every kernel (ctest)
#   make check KERNELS=all   every VM test on every kernel, not a subset
#   make check-debug     part of the VM tests on a KASAN/lockdep/kmemleak kernel
#   make check-powercut  power cuts during copy-up, whiteouts, renames, xino
#   make demo            boot the VM and replay the aufs walkthrough
#   make bench           benchmarks against overlayfs and the raw filesystem

SHELL := /bin/bash
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD ?= $(TOP)/build

# Kernels with headers and an image: those of the host's release, installed
# (/lib/modules/<kver>/build, /boot/vmlinuz-<kver>), and those of other
# releases that scripts/kernels.sh unpacked under build/kernels/<kver>/.
# modules-all builds for all of them; KERNELS picks the ones the VM tests
# boot (see tests/vm/CMakeLists.txt for what each kernel runs).
HOST_KVERS := $(foreach d,$(wildcard /lib/modules/*/build/Makefile), \
	$(if $(wildcard /boot/vmlinuz-$(notdir $(patsubst %/build/Makefile,%,$(d)))), \
	$(notdir $(patsubst %/build/Makefile,%,$(d)))))
EXTRA_KVERS := $(foreach d,$(wildcard $(BUILD)/kernels/*/done), \
	$(notdir $(patsubst %/done,%,$(d))))
KVERS ?= $(shell printf '%s\n' $(HOST_KVERS) $(EXTRA_KVERS) | sort -uV)
# Default KDIR: the running kernel's build dir, else the newest headers.
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR ?= $(if $(wildcard $(RUNNING_KDIR)/Makefile),$(RUNNING_KDIR),$(lastword \
	$(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V)))

# VM tests: "ends" runs all of them on the oldest and newest kernel and a
# subset on the others; "all" runs all of them everywhere.
KERNELS ?= ends
CMAKE_BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# A VM test counts as two processors: this runs JOBS VMs at once.
CTEST_JOBS ?= $(shell echo $$(( $(JOBS) * 2 )))

include $(TOP)/mk/packages.mk

.PHONY: all setup module modules-all tools check test demo bench clean \
	checkpatch check-debug check-powercut

all: module tools

setup:
	@$(TOP)/scripts/setup.sh

module:
	$(MAKE) -C $(KDIR) M=$(TOP) W=1 modules

# One out-of-tree copy per kernel, so that builds do not clobber each other.
modules-all:
	@set -e; for k in $(KVERS); do \
		d=$(BUILD)/mod/$$k; mkdir -p $$d; \
		cp -a $(TOP)/Kbuild $(TOP)/kmod $(TOP)/include $$d/; \
		echo "  MODULE  $$k"; \
		kd=/lib/modules/$$k/build; \
		[ -f $$kd/Makefile ] || kd=$(BUILD)/kernels/$$k/build; \
		$(MAKE) -s -j $(JOBS) -C $$kd M=$$d W=1 modules; \
	done

tools:
	cmake -S $(TOP) -B $(BUILD)/cmake -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) \
		-DCPPAUFS_KERNELS="$(KVERS)" -DCPPAUFS_MODDIR=$(BUILD)/mod \
		-DCPPAUFS_VM_MATRIX=$(KERNELS) >/dev/null
	cmake --build $(BUILD)/cmake -j $(JOBS)

check: setup
	$(MAKE) modules-all tools
	cd $(BUILD)/cmake && ctest --output-on-failure -j $(CTEST_JOBS) $(CTEST_ARGS)

test: check

# Power cuts: POWERCUT_ROUNDS rounds on ext4 and xfs, newest kernel, of
# each scenario (tests/vm/powercut.sh).
POWERCUT_ROUNDS ?= 10
check-powercut: setup
	$(MAKE) modules-all tools
	$(TOP)/tests/vm/powercut.sh $(lastword $(KVERS)) $(POWERCUT_ROUNDS) ext4 xfs
	CPPAUFS_POWERCUT_SCENARIO=xino \
		$(TOP)/tests/vm/powercut.sh $(lastword $(KVERS)) $(POWERCUT_ROUNDS) ext4 xfs

# Part of the VM suite on a KASAN/lockdep/kmemleak kernel built from
# linux-source-6.1 (once, cached in build/debug-kernels).
check-debug:
	@$(TOP)/scripts/setup.sh --debug
	$(MAKE) tools
	$(TOP)/scripts/check-debug.sh $(DEBUG_TESTS)

demo: setup
	$(MAKE) modules-all tools
	$(TOP)/scripts/demo.sh $(lastword $(KVERS))

bench:
	@$(TOP)/scripts/setup.sh --bench
	$(MAKE) modules-all tools
	$(TOP)/scripts/bench.sh $(BENCH_ARGS)

checkpatch:
	$(KDIR)/scripts/checkpatch.pl --no-tree --strict -q -f \
		$(TOP)/kmod/*.c $(TOP)/kmod/*.h

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean
	rm -rf $(BUILD)
