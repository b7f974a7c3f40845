#!/bin/sh
# ComputeHive guest init: the initramfs's /init, PID 1 until it execs busybox init. Installed by
# host-agent/src/guest/build.ts, which fills in the @PLACEHOLDERS@ (see init-script.ts).
#
# It loads the virtio modules, reads the seed disk, creates the VM user, installs the host keys, the CA and
# sshd_config from the seed, brings the network up and hands over to busybox init, which keeps
# `sshd -D -e` running (its log goes to the console) and powers off on SIGUSR2 or an ACPI power-button press.
#
# Seed (a ustar archive on a raw virtio disk, see seed.ts): seed.conf (KEY=value lines: VM_USER, VM_UID,
# ADDRESS, GATEWAY, DNS, HOSTNAME), ca.pub, ssh_host_<type>_key[.pub], optional sshd_config.
# The seed disk is `computehive.seed=/dev/vdX` from the kernel command line, else the virtio disk whose
# serial is @SEED_SERIAL@, else the first virtio disk holding a seed.conf.
# Network: `computehive.ip=ADDR/PREFIX` and `computehive.gw=ADDR` on the kernel command line win over the
# seed's ADDRESS/GATEWAY; the defaults are QEMU user-mode networking's (10.0.2.15/24 via 10.0.2.2).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
say() { echo "computehive-guest: $*"; }
fail() { say "FATAL: $*"; sleep 2; poweroff -f; }

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
chmod 1777 /tmp

for m in @MODULES@; do
  insmod "/lib/modules/@KERNEL_RELEASE@/$m.ko" || say "insmod $m failed"
done

SEED_DEV= ; CMD_IP= ; CMD_GW=
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    computehive.seed=*) SEED_DEV="${arg#*=}" ;;
    computehive.ip=*) CMD_IP="${arg#*=}" ;;
    computehive.gw=*) CMD_GW="${arg#*=}" ;;
  esac
done

# virtio devices bind as their modules load; give the block layer a moment to publish the disks.
i=0
while ! ls /sys/block 2>/dev/null | grep -q '^vd' && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -z "$SEED_DEV" ]; then
  for b in /sys/block/vd*; do
    [ -r "$b/serial" ] && [ "$(cat "$b/serial")" = "@SEED_SERIAL@" ] && SEED_DEV="/dev/${b##*/}" && break
  done
fi
if [ -z "$SEED_DEV" ]; then
  for b in /sys/block/vd*; do
    tar -t -f "/dev/${b##*/}" 2>/dev/null | grep -qx seed.conf && SEED_DEV="/dev/${b##*/}" && break
  done
fi
[ -n "$SEED_DEV" ] || fail "no seed disk (virtio serial @SEED_SERIAL@ or computehive.seed=)"
mkdir -p /seed
tar -x -f "$SEED_DEV" -C /seed || fail "cannot read the seed archive on $SEED_DEV"
[ -f /seed/seed.conf ] || fail "the seed on $SEED_DEV has no seed.conf"
[ -f /seed/ca.pub ] || fail "the seed has no ca.pub"

VM_USER= ; VM_UID=1000 ; ADDRESS=10.0.2.15/24 ; GATEWAY=10.0.2.2 ; DNS= ; NAME=computehive
while IFS='=' read -r key value; do
  case "$key" in
    VM_USER) VM_USER="$value" ;;
    VM_UID) VM_UID="$value" ;;
    ADDRESS) ADDRESS="$value" ;;
    GATEWAY) GATEWAY="$value" ;;
    DNS) DNS="$value" ;;
    HOSTNAME) NAME="$value" ;;
  esac
done < /seed/seed.conf
[ -n "$CMD_IP" ] && ADDRESS="$CMD_IP"
[ -n "$CMD_GW" ] && GATEWAY="$CMD_GW"
case "$VM_USER" in ''|root|sshd|nobody|[!a-z_]*|*[!a-z0-9_-]*) fail "bad VM_USER '$VM_USER'" ;; esac
case "$VM_UID" in ''|*[!0-9]*) fail "bad VM_UID '$VM_UID'" ;; esac
[ "$VM_UID" -ge 1000 ] && [ "$VM_UID" -lt 65534 ] || fail "VM_UID $VM_UID out of range"

# No password anywhere: '*' never matches a crypt hash. ('!' reads as a locked account, and sshd without
# PAM refuses every login to a locked account, certificates included.)
printf '%s\n' \
  "root:x:0:0:root:/root:/bin/sh" \
  "sshd:x:100:65534:sshd privilege separation:/run/sshd:/bin/false" \
  "$VM_USER:x:$VM_UID:$VM_UID::/home/$VM_USER:/bin/sh" \
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false" > /etc/passwd
printf '%s\n' "root:x:0:" "tty:x:5:" "$VM_USER:x:$VM_UID:" "nogroup:x:65534:" > /etc/group
printf '%s:*:19000:0:99999:7:::\n' root sshd "$VM_USER" nobody > /etc/shadow
chmod 644 /etc/passwd /etc/group
chmod 600 /etc/shadow
mkdir -p "/home/$VM_USER"
chown "$VM_UID:$VM_UID" "/home/$VM_USER"
chmod 700 "/home/$VM_USER" /root

mkdir -p /etc/ssh
host_keys=
for k in /seed/ssh_host_*_key; do
  [ -f "$k" ] || continue
  cp "$k" "/etc/ssh/${k##*/}" && chmod 600 "/etc/ssh/${k##*/}"
  [ -f "$k.pub" ] && cp "$k.pub" "/etc/ssh/${k##*/}.pub" && chmod 644 "/etc/ssh/${k##*/}.pub"
  host_keys="$host_keys /etc/ssh/${k##*/}"
done
[ -n "$host_keys" ] || fail "the seed has no ssh_host_*_key"
cp /seed/ca.pub /etc/ssh/ca.pub && chmod 644 /etc/ssh/ca.pub
if [ -f /seed/sshd_config ]; then
  cp /seed/sshd_config /etc/ssh/sshd_config
else
  {
    for k in $host_keys; do echo "HostKey $k"; done
    printf '%s\n' \
      "TrustedUserCAKeys /etc/ssh/ca.pub" \
      "AuthorizedKeysFile none" \
      "PubkeyAuthentication yes" \
      "PasswordAuthentication no" \
      "KbdInteractiveAuthentication no" \
      "PermitRootLogin no" \
      "AllowUsers $VM_USER" \
      "AllowTcpForwarding no" \
      "AllowAgentForwarding no" \
      "AllowStreamLocalForwarding no" \
      "X11Forwarding no" \
      "PermitTunnel no" \
      "PermitUserEnvironment no" \
      "UsePAM no" \
      "Subsystem sftp /usr/lib/openssh/sftp-server"
  } > /etc/ssh/sshd_config
fi
chmod 644 /etc/ssh/sshd_config
mkdir -p -m 0755 /run/sshd
# The private keys now live only in /etc/ssh; nothing else keeps the seed.
rm -rf /seed

hostname "$NAME"
echo "127.0.0.1 localhost $NAME" > /etc/hosts
[ -n "$DNS" ] && echo "nameserver $DNS" > /etc/resolv.conf
ip link set lo up
IFACE=
i=0
while [ -z "$IFACE" ] && [ $i -lt 50 ]; do
  for n in /sys/class/net/*; do [ "${n##*/}" != lo ] && IFACE="${n##*/}" && break; done
  [ -n "$IFACE" ] || { sleep 0.1; i=$((i + 1)); }
done
[ -n "$IFACE" ] || fail "no network interface (virtio-net)"
ip link set "$IFACE" up || fail "cannot bring $IFACE up"
ip addr add "$ADDRESS" dev "$IFACE" || fail "cannot set $ADDRESS on $IFACE"
ip route add default via "$GATEWAY" dev "$IFACE" || fail "cannot route via $GATEWAY"
say "user=$VM_USER iface=$IFACE address=$ADDRESS gateway=$GATEWAY seed=$SEED_DEV; starting sshd"

printf '%s\n' "::respawn:/usr/sbin/sshd -D -e" "::respawn:/sbin/acpid -f" "::shutdown:/bin/sync" > /etc/inittab
exec /sbin/init
