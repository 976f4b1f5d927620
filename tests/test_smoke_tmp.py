from http import HTTPStatus

from flask.testing import FlaskClient

from tests.builders import login_as, make_patient, make_professional


def test_patient_signs_in(client: FlaskClient) -> None:
    patient = make_patient()
    login_as(client, patient)
    assert client.get("/").status_code == HTTPStatus.OK


def test_pro_signs_in(client: FlaskClient) -> None:
    pro = make_professional()
    login_as(client, pro)
    assert client.get("/pro/").status_code == HTTPStatus.OK
