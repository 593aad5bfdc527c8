/* A Modbus/TCP server on libmodbus, the independent peer of the Modbus adapter's tests.
 *
 * usage: modbus_server PORT  (on 127.0.0.1)
 * stdin, before serving: lines "h|i|c|d ADDR VALUE" (holding, input, coil, discrete input),
 * then "go". 64 entries per table. Prints "listening", then one line per request:
 * "req unit=U fn=F addr=A count=N". Requests for unit 99 are never answered (a device that
 * does not respond); others get libmodbus' reply, an exception for addresses past 64. */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s PORT\n", argv[0]); return 2; }
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", atoi(argv[1]));
    modbus_mapping_t *mb = modbus_mapping_new(64, 64, 64, 64);
    if (ctx == NULL || mb == NULL) { fprintf(stderr, "init: %s\n", modbus_strerror(errno)); return 1; }
    char line[128], kind;
    int addr, value;
    while (fgets(line, sizeof line, stdin) != NULL && strncmp(line, "go", 2) != 0) {
        if (sscanf(line, " %c %d %d", &kind, &addr, &value) != 3 || addr < 0 || addr >= 64) continue;
        if (kind == 'h') mb->tab_registers[addr] = (uint16_t)value;
        else if (kind == 'i') mb->tab_input_registers[addr] = (uint16_t)value;
        else if (kind == 'c') mb->tab_bits[addr] = (uint8_t)value;
        else if (kind == 'd') mb->tab_input_bits[addr] = (uint8_t)value;
    }
    int server = modbus_tcp_listen(ctx, 4);
    if (server < 0) { fprintf(stderr, "listen: %s\n", modbus_strerror(errno)); return 1; }
    printf("listening\n");
    fflush(stdout);
    int header = modbus_get_header_length(ctx);
    for (;;) {
        if (modbus_tcp_accept(ctx, &server) < 0) continue;
        for (;;) {
            uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
            int rc = modbus_receive(ctx, q);
            if (rc == -1) break; /* client gone */
            if (rc == 0) continue;
            int unit = q[header - 1], fn = q[header];
            int a = (q[header + 1] << 8) | q[header + 2], n = (q[header + 3] << 8) | q[header + 4];
            printf("req unit=%d fn=%d addr=%d count=%d\n", unit, fn, a, n);
            fflush(stdout);
            if (unit == 99) continue;
            modbus_reply(ctx, q, rc, mb);
        }
        close(modbus_get_socket(ctx));
    }
}
