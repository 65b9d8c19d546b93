/* Walks one seed corpus of tests/fuzz/corpus/ (BO_FUZZ_CORPUS is set by CMake). Test helper. */
#ifndef BO_TEST_CORPUS_WALK_H
#define BO_TEST_CORPUS_WALK_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Calls fn(name, data, len, valid) for every file; valid is whether its name starts with
 * "valid-". Returns the number of files. */
static inline unsigned corpus_walk(const char *sub,
                                   void (*fn)(const char *, const uint8_t *, size_t, bool))
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", BO_FUZZ_CORPUS, sub);
    DIR *dir = opendir(path);
    if (!dir)
        return 0;
    unsigned n = 0;
    struct dirent *e;
    static uint8_t data[1 << 16];
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s/%s", BO_FUZZ_CORPUS, sub, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        size_t len = fread(data, 1, sizeof(data), f);
        fclose(f);
        fn(e->d_name, data, len, !strncmp(e->d_name, "valid-", 6));
        n++;
    }
    closedir(dir);
    return n;
}

#endif
