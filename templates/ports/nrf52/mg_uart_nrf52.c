/* nRF52 UARTE (UART with EasyDMA), polled one byte at a time. EasyDMA reads and writes RAM
 * only, so every byte goes through a RAM buffer. Register offsets: the nRF52840 product
 * specification, UARTE and GPIO chapters. */
#include "mg_cortexm.h"

#define UARTE_TASKS_STARTRX (MG_UART_BASE + 0x000u)
#define UARTE_TASKS_STARTTX (MG_UART_BASE + 0x008u)
#define UARTE_EVENTS_ENDRX (MG_UART_BASE + 0x110u)
#define UARTE_EVENTS_ENDTX (MG_UART_BASE + 0x120u)
#define UARTE_ENABLE (MG_UART_BASE + 0x500u)
#define UARTE_PSEL_TXD (MG_UART_BASE + 0x50Cu)
#define UARTE_PSEL_RXD (MG_UART_BASE + 0x514u)
#define UARTE_BAUDRATE (MG_UART_BASE + 0x524u)
#define UARTE_RXD_PTR (MG_UART_BASE + 0x534u)
#define UARTE_RXD_MAXCNT (MG_UART_BASE + 0x538u)
#define UARTE_TXD_PTR (MG_UART_BASE + 0x544u)
#define UARTE_TXD_MAXCNT (MG_UART_BASE + 0x548u)
#define UARTE_CONFIG (MG_UART_BASE + 0x56Cu)
#define UARTE_ENABLE_UARTE 8u

/* GPIO P0 at 0x50000000, P1 at 0x50000300; a PSEL value is (port << 5) | pin. */
#define GPIO_PORT(psel) (0x50000000u + 0x300u * ((psel) >> 5))
#define GPIO_OUTSET 0x508u
#define GPIO_PIN_CNF(pin) (0x700u + 4u * (pin))

static volatile uint8_t rx_byte;
static volatile uint8_t tx_byte;

void mg_uart_init(void)
{
    /* TX idles high as an output; RX is an input with its buffer connected (PIN_CNF = 0). */
    MG_REG32(GPIO_PORT(MG_UART_TX_PSEL) + GPIO_OUTSET) = 1u << (MG_UART_TX_PSEL & 31u);
    MG_REG32(GPIO_PORT(MG_UART_TX_PSEL) + GPIO_PIN_CNF(MG_UART_TX_PSEL & 31u)) = 1u;
    MG_REG32(GPIO_PORT(MG_UART_RX_PSEL) + GPIO_PIN_CNF(MG_UART_RX_PSEL & 31u)) = 0u;
    MG_REG32(UARTE_PSEL_TXD) = MG_UART_TX_PSEL;
    MG_REG32(UARTE_PSEL_RXD) = MG_UART_RX_PSEL;
    MG_REG32(UARTE_BAUDRATE) = MG_UART_BAUD_REGISTER;
    MG_REG32(UARTE_CONFIG) = 0; /* 8N1, no flow control */
    MG_REG32(UARTE_ENABLE) = UARTE_ENABLE_UARTE;
    MG_REG32(UARTE_RXD_PTR) = (uint32_t)(uintptr_t)&rx_byte;
    MG_REG32(UARTE_RXD_MAXCNT) = 1;
    MG_REG32(UARTE_EVENTS_ENDRX) = 0;
    MG_REG32(UARTE_TASKS_STARTRX) = 1;
}

/* The receiver keeps running after ENDRX and holds what arrives in its FIFO until the next
 * STARTRX moves it into the buffer, so restarting right away loses nothing. */
int mg_uart_read_byte(void)
{
    uint8_t byte;
    while (MG_REG32(UARTE_EVENTS_ENDRX) == 0) {
    }
    MG_REG32(UARTE_EVENTS_ENDRX) = 0;
    byte = rx_byte;
    MG_REG32(UARTE_TASKS_STARTRX) = 1;
    return byte;
}

void mg_uart_write_byte(uint8_t byte)
{
    tx_byte = byte;
    MG_REG32(UARTE_TXD_PTR) = (uint32_t)(uintptr_t)&tx_byte;
    MG_REG32(UARTE_TXD_MAXCNT) = 1;
    MG_REG32(UARTE_EVENTS_ENDTX) = 0;
    MG_REG32(UARTE_TASKS_STARTTX) = 1;
    while (MG_REG32(UARTE_EVENTS_ENDTX) == 0) {
    }
}

/* ENDTX comes once the byte has left: nothing is ever still queued. */
void mg_uart_flush(void)
{
}
