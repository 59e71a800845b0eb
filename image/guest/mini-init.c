/* The initramfs /init of the WiZFS VM images.
 *
 * Debian's initramfs-tools image takes ~10 s to run under TCG; this static program loads
 * the few modules needed to see the root disk and the job share (listed in /m/order), mounts the root file
 * system named by root= (ext4 on /dev/vda by default), moves /dev, /proc and /sys into it
 * and execs init= (default /sbin/wizfs-init). Built by image/build-image with gcc -static.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void load_module(const char *module_name) {
    char path[256];
    snprintf(path, sizeof path, "/m/%s.ko", module_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "wizfs initramfs: open %s: %s\n", path, strerror(errno));
        return;
    }
    if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
        fprintf(stderr, "wizfs initramfs: load %s: %s\n", path, strerror(errno));
    close(fd);
}

/* Copies the value of `key=value` from the kernel command line into out, if present. */
static void kernel_argument(const char *key, char *out, size_t out_size) {
    static char line[4096];
    FILE *file = fopen("/proc/cmdline", "r");
    if (!file) return;
    char *read = fgets(line, sizeof line, file);
    fclose(file);
    if (!read) return;
    size_t key_length = strlen(key);
    for (char *word = strtok(line, " \n"); word; word = strtok(NULL, " \n"))
        if (strncmp(word, key, key_length) == 0 && word[key_length] == '=')
            snprintf(out, out_size, "%s", word + key_length + 1);
}

int main(void) {
    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    char root[256] = "/dev/vda", fstype[64] = "ext4", init[256] = "/sbin/wizfs-init";
    kernel_argument("root", root, sizeof root);
    kernel_argument("rootfstype", fstype, sizeof fstype);
    kernel_argument("init", init, sizeof init);
    /* /m/order names the modules of this kernel in load order (dependencies first), one per
       line: build-image writes it for each kernel it packs. */
    FILE *order = fopen("/m/order", "r");
    if (order) {
        char name[128];
        while (fgets(name, sizeof name, order)) {
            name[strcspn(name, "\n")] = 0;
            if (name[0]) load_module(name);
        }
        fclose(order);
    } else {
        fprintf(stderr, "wizfs initramfs: no /m/order: no modules loaded\n");
    }
    if (strncmp(root, "/dev/", 5) == 0)
        for (int i = 0; i < 3000 && access(root, F_OK) != 0; i++) usleep(10000);
    mkdir("/newroot", 0755);
    for (int attempt = 0; mount(root, "/newroot", fstype, 0, NULL) != 0; attempt++) {
        if (attempt > 300) {
            fprintf(stderr, "wizfs initramfs: mount %s (%s): %s\n", root, fstype, strerror(errno));
            return 1;
        }
        usleep(10000);
    }
    mount("/dev", "/newroot/dev", NULL, MS_MOVE, NULL);
    mount("/proc", "/newroot/proc", NULL, MS_MOVE, NULL);
    mount("/sys", "/newroot/sys", NULL, MS_MOVE, NULL);
    if (chdir("/newroot") || mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/")) {
        perror("wizfs initramfs: switch root");
        return 1;
    }
    execl(init, init, (char *)NULL);
    perror("wizfs initramfs: exec init");
    return 1;
}
