#!/bin/sh
# Run by busybox acpid on the ACPI power button event.
echo "KVMCTL-GUEST-POWEROFF" >/dev/console
sync
poweroff -f
