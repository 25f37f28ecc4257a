"""Every expert page in German: the user's choice, else the browser's language."""

from __future__ import annotations

from .conftest import Setup


def test_pages_follow_the_browsers_language(declared: Setup, client) -> None:
    german = {"Accept-Language": "de-DE,de;q=0.9"}
    listing = client.get("/expert/", headers=german).get_data(as_text=True)
    assert "Meine Zuweisungen" in listing and "Gutachten beginnen" in listing
    assert "15.01.2030" in listing  # dates in the German format

    page = client.get(declared.url, headers=german).get_data(as_text=True)
    for text in (
        "Ihr Gutachten",
        "Beantragte Förderung",
        "1.000.000,00 EUR",  # money in the German format, as on every page and report
        "Spanien (ES)",
        "Entwurf speichern",
        "Einreichen",
        # The criteria file's German texts (its [translations.de] table):
        '<span class="visually-hidden">Rechenleistung: </span>Kommentar</label>',
        '<span class="visually-hidden">Rechenleistung: </span>4,5</label>',  # decimal comma
        "Bietet der vorgeschlagene für KI optimierte Supercomputer",
        "Hervorragend: geht auf alle Aspekte ein",
    ):
        assert text in page, text
    for english in ("Expertise and services", "Does the proposed AI-optimised", "Excellent:"):
        assert english not in page, english


def test_validation_messages_in_german(declared: Setup, post_review, client) -> None:
    client.post("/language", data={"language": "de"})
    response = post_review("submit", score_compute=None, comment_funding="kurz")
    html = response.get_data(as_text=True)
    assert "Wählen Sie eine Punktzahl für dieses Kriterium." in html
    assert "Schreiben Sie mindestens 50 Zeichen (bisher 4)." in html


def test_declaration_page_in_german(setup: Setup, login_as) -> None:
    client = login_as(setup.expert)
    client.post("/language", data={"language": "de"})
    html = client.get(f"{setup.url}/declaration").get_data(as_text=True)
    assert "Interessenkonflikt und Vertraulichkeit" in html
    assert "Nein, ich habe keinen Interessenkonflikt" in html
