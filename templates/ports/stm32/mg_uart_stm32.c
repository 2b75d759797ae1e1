/* STM32 USART and LPUART with the ISR/ICR/RDR/TDR register layout (STM32F7, H7, L4, L4+, G4,
 * ...), polled. The board set-up (mg_board.c) has already clocked the GPIO ports and the UART;
 * here the pins get their alternate function and the UART its baud rate. Register offsets:
 * the reference manuals' USART and GPIO chapters (RM0385, RM0433, RM0432). */
#include "mg_cortexm.h"

#define USART_CR1 (MG_UART_BASE + 0x00u)
#define USART_CR3 (MG_UART_BASE + 0x08u)
#define USART_BRR (MG_UART_BASE + 0x0Cu)
#define USART_ISR (MG_UART_BASE + 0x1Cu)
#define USART_ICR (MG_UART_BASE + 0x20u)
#define USART_RDR (MG_UART_BASE + 0x24u)
#define USART_TDR (MG_UART_BASE + 0x28u)
#define CR1_UE (1u << 0)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)
#define CR3_OVRDIS (1u << 12)
#define ISR_ORE (1u << 3)
#define ISR_RXNE (1u << 5)
#define ISR_TC (1u << 6)
#define ISR_TXE (1u << 7)
#define ICR_ORECF (1u << 3)

#define GPIO_MODER 0x00u
#define GPIO_OSPEEDR 0x08u
#define GPIO_PUPDR 0x0Cu
#define GPIO_AFR 0x20u

typedef struct {
    uint32_t gpio; /* the port's base address */
    uint32_t pin;
    uint32_t alternate_function;
    uint32_t pull_up;
} mg_uart_pin;

static const mg_uart_pin pins[] = MG_UART_PINS;

static void set_field(uint32_t address, uint32_t shift, uint32_t width, uint32_t value)
{
    uint32_t mask = ((1u << width) - 1u) << shift;
    MG_REG32(address) = (MG_REG32(address) & ~mask) | ((value << shift) & mask);
}

void mg_uart_init(void)
{
    uint32_t i;
    for (i = 0; i < sizeof pins / sizeof pins[0]; i++) {
        const mg_uart_pin *p = &pins[i];
        set_field(p->gpio + GPIO_AFR + 4u * (p->pin / 8u), 4u * (p->pin % 8u), 4u, p->alternate_function);
        set_field(p->gpio + GPIO_OSPEEDR, 2u * p->pin, 2u, 2u);       /* high speed */
        set_field(p->gpio + GPIO_PUPDR, 2u * p->pin, 2u, p->pull_up); /* idle-high RX */
        set_field(p->gpio + GPIO_MODER, 2u * p->pin, 2u, 2u);         /* alternate function */
    }
    MG_REG32(USART_CR1) = 0;
    MG_REG32(USART_BRR) = MG_UART_BRR;
    /* An overrun must not stop reception: the RPC layer resynchronizes on lost bytes. */
    MG_REG32(USART_CR3) = CR3_OVRDIS;
    MG_REG32(USART_CR1) = CR1_TE | CR1_RE | CR1_UE;
}

int mg_uart_read_byte(void)
{
    while ((MG_REG32(USART_ISR) & ISR_RXNE) == 0) {
        if ((MG_REG32(USART_ISR) & ISR_ORE) != 0) MG_REG32(USART_ICR) = ICR_ORECF;
    }
    return (int)(MG_REG32(USART_RDR) & 0xFFu);
}

void mg_uart_write_byte(uint8_t byte)
{
    while ((MG_REG32(USART_ISR) & ISR_TXE) == 0) {
    }
    MG_REG32(USART_TDR) = byte;
}

void mg_uart_flush(void)
{
    while ((MG_REG32(USART_ISR) & ISR_TC) == 0) {
    }
}
