# cppaufs top-level Makefile.
#
#   make                 module for KDIR + tools
#   make KDIR=/lib/modules/<kver>/build module
#   make modules-all     the module for every installed kernel (build/mod/<kver>)
#   make check           set-up, unit tests and VM tests on every kernel (ctest)
#   make demo            boot the VM and replay the aufs walkthrough
#   make bench           benchmarks against overlayfs and the raw filesystem

SHELL := /bin/bash
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD ?= $(TOP)/build

# Kernels with headers and an image: what modules-all and the VM tests use.
KVERS ?= $(sort $(foreach d,$(wildcard /lib/modules/*/build/Makefile), \
	$(if $(wildcard /boot/vmlinuz-$(notdir $(patsubst %/build/Makefile,%,$(d)))), \
	$(notdir $(patsubst %/build/Makefile,%,$(d))))))
# Default KDIR: the running kernel's build dir, else the newest headers.
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR ?= $(if $(wildcard $(RUNNING_KDIR)/Makefile),$(RUNNING_KDIR),$(lastword \
	$(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V)))

CMAKE_BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# A VM test counts as two processors: this runs JOBS VMs at once.
CTEST_JOBS ?= $(shell echo $$(( $(JOBS) * 2 )))

.PHONY: all setup module modules-all tools check test demo bench clean \
	checkpatch

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
		$(MAKE) -s -C /lib/modules/$$k/build M=$$d W=1 modules; \
	done

tools:
	cmake -S $(TOP) -B $(BUILD)/cmake -DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) \
		-DCPPAUFS_KERNELS="$(KVERS)" -DCPPAUFS_MODDIR=$(BUILD)/mod >/dev/null
	cmake --build $(BUILD)/cmake -j $(JOBS)

check: setup
	$(MAKE) modules-all tools
	cd $(BUILD)/cmake && ctest --output-on-failure -j $(CTEST_JOBS) $(CTEST_ARGS)

test: check

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
