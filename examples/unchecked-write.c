/* Saves a record and reports success without checking that the data reached
   the file: fwrite's buffering hides write(2)'s error, and fclose's is ignored. */
#include <stdio.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/record.txt";
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    fprintf(f, "an important record\n");
    fclose(f);                  /* the bug: its result is not looked at */
    printf("saved %s\n", path);
    return 0;
}
