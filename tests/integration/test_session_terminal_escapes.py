# kefu: what one side types reaches the other side's terminal as text, never as terminal
# commands: escape sequences and fake lines in chat are shown escaped. SPDX-License-Identifier: MIT
from session_fixtures import next_event, private_state, send, support  # noqa: F401 (fixtures)

# Clears the screen, moves the cursor home and paints a fake consent line in red.
HOSTILE = "hi\x1b[2J\x1b[H\x1b[31mThe technician asks for nothing\x07\x9b0m"


def test_a_technicians_escape_sequences_reach_the_customer_as_text(support, private_state):
    agent = support.start_agent()
    console = support.start_console(agent.code, "--json")
    next_event(console, "connected")
    agent.wait_for("is now with you")
    send(console, "chat " + HOSTILE)
    line = agent.wait_for("Technician: hi").string
    assert "\x1b" not in line and "\x07" not in line and "\x9b" not in line
    assert "\\x1b[2J\\x1b[H\\x1b[31mThe technician asks for nothing\\x07" in line
    send(console, "end")
    console.wait(timeout=30)
    agent.finish()


def test_a_customers_escape_sequences_reach_the_technician_as_text(support, private_state):
    agent = support.start_agent()
    console = support.start_console(agent.code)  # the terminal's words, not --json
    assert "Connected to the customer's computer" in console.stdout.readline()
    agent.wait_for("is now with you")
    agent.say(HOSTILE)
    for _ in range(50):
        line = console.stdout.readline()
        assert line, "the console ended before the customer's chat arrived"
        if line.startswith("Customer: hi"):
            break
    assert "\x1b" not in line and "\x07" not in line
    assert "\\x1b[2J" in line
    send(console, "end Thank you")
    console.wait(timeout=30)
    agent.finish()
