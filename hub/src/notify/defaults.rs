//! The default texts of every message, in French and English. A retailer's
//! saved version (`message_templates` rows) replaces one of them.

/// (name, language, subject, text body, HTML body)
pub type DefaultTemplate = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const LINES_TEXT: &str = "{% for line in reservation.lines %}- {{ line.quantity }} x {{ line.designation }}{% if line.variant %} ({{ line.variant }}){% endif %}\n{% endfor %}";
const LINES_HTML: &str = "<ul>{% for line in reservation.lines %}<li>{{ line.quantity }} &times; {{ line.designation }}{% if line.variant %} ({{ line.variant }}){% endif %}</li>{% endfor %}</ul>";

/// Every default template.
pub fn all() -> Vec<(String, String, String, String, String)> {
    let mut out = Vec::new();
    for (name, lang, subject, text, html) in TEMPLATES {
        out.push((
            name.to_string(),
            lang.to_string(),
            subject.to_string(),
            text.replace("[[LINES]]", LINES_TEXT),
            html.replace("[[LINES]]", LINES_HTML),
        ));
    }
    out
}

const TEMPLATES: &[DefaultTemplate] = &[
    // Pages shown to the shopper (subject = page title).
    (
        "page_after_request_validation",
        "fr",
        "Vérifiez votre boîte mail",
        "Merci {{ shopper.first_name }} ! Un email vient de partir : cliquez sur son lien pour confirmer la réservation {{ reservation.number }} avant le {{ reservation.validate_by }}.",
        "<h1>Vérifiez votre boîte mail</h1><p>Merci {{ shopper.first_name }} ! Un email vient de partir : cliquez sur son lien pour confirmer la réservation <strong>{{ reservation.number }}</strong> avant le {{ reservation.validate_by }}.</p><p>L'article reste réservé pour vous jusque-là.</p>",
    ),
    (
        "page_after_request_validation",
        "en",
        "Check your mailbox",
        "Thank you {{ shopper.first_name }}! We sent you an email: click its link to confirm reservation {{ reservation.number }} by {{ reservation.validate_by }}.",
        "<h1>Check your mailbox</h1><p>Thank you {{ shopper.first_name }}! We sent you an email: click its link to confirm reservation <strong>{{ reservation.number }}</strong> by {{ reservation.validate_by }}.</p><p>The article stays reserved for you until then.</p>",
    ),
    (
        "page_after_request_received",
        "fr",
        "Réservation transmise",
        "Merci {{ shopper.first_name }} ! {{ store.name }} a reçu votre réservation {{ reservation.number }} et vous répond avant le {{ reservation.confirm_by }}.",
        "<h1>Réservation transmise</h1><p>Merci {{ shopper.first_name }} ! {{ store.name }} a reçu votre réservation <strong>{{ reservation.number }}</strong> et vous répond avant le {{ reservation.confirm_by }}.</p><p><a href=\"{{ links.tracking }}\">Suivre ma réservation</a></p>",
    ),
    (
        "page_after_request_received",
        "en",
        "Reservation sent",
        "Thank you {{ shopper.first_name }}! {{ store.name }} received reservation {{ reservation.number }} and will answer by {{ reservation.confirm_by }}.",
        "<h1>Reservation sent</h1><p>Thank you {{ shopper.first_name }}! {{ store.name }} received reservation <strong>{{ reservation.number }}</strong> and will answer by {{ reservation.confirm_by }}.</p><p><a href=\"{{ links.tracking }}\">Follow my reservation</a></p>",
    ),
    (
        "page_validated",
        "fr",
        "Demande confirmée",
        "Merci {{ shopper.first_name }} ! Votre réservation {{ reservation.number }} est confirmée et transmise à {{ store.name }}, qui vous répond avant le {{ reservation.confirm_by }}.",
        "<h1>Demande confirmée</h1><p>Merci {{ shopper.first_name }} ! Votre réservation <strong>{{ reservation.number }}</strong> est confirmée et transmise à {{ store.name }}, qui vous répond avant le {{ reservation.confirm_by }}.</p>[[LINES]]<p><a href=\"{{ links.tracking }}\">Suivre ma réservation</a></p>",
    ),
    (
        "page_validated",
        "en",
        "Request confirmed",
        "Thank you {{ shopper.first_name }}! Reservation {{ reservation.number }} is confirmed and on its way to {{ store.name }}, which will answer by {{ reservation.confirm_by }}.",
        "<h1>Request confirmed</h1><p>Thank you {{ shopper.first_name }}! Reservation <strong>{{ reservation.number }}</strong> is confirmed and on its way to {{ store.name }}, which will answer by {{ reservation.confirm_by }}.</p>[[LINES]]<p><a href=\"{{ links.tracking }}\">Follow my reservation</a></p>",
    ),
    (
        "page_terms",
        "fr",
        "Conditions de la réservation en magasin",
        "La réservation est gratuite et sans obligation d'achat. L'article est gardé jusqu'à la date indiquée, puis remis en vente. Vous pouvez annuler à tout moment depuis le lien de suivi.",
        "<h1>Conditions de la réservation en magasin</h1><ul><li>La réservation est gratuite et sans obligation d'achat.</li><li>Le magasin confirme la disponibilité ; l'article est gardé jusqu'à la date indiquée, puis remis en vente.</li><li>Vous pouvez annuler à tout moment depuis le lien de suivi.</li><li>Vos coordonnées servent uniquement à vous informer de votre réservation.</li></ul>",
    ),
    (
        "page_terms",
        "en",
        "Reserve-in-store terms",
        "Reserving is free and you do not have to buy. The article is kept until the date given, then goes back on sale. You may cancel at any time from the tracking link.",
        "<h1>Reserve-in-store terms</h1><ul><li>Reserving is free and you do not have to buy.</li><li>The store confirms the article is there; it is kept until the date given, then goes back on sale.</li><li>You may cancel at any time from the tracking link.</li><li>Your details are only used to tell you about your reservation.</li></ul>",
    ),
    // Back in stock (someone asked to be told).
    (
        "restock",
        "fr",
        "De retour chez {{ store.name }} : {{ article.designation }}",
        "Bonjour,\n\n{{ article.designation }}{% if article.variant %} ({{ article.variant }}){% endif %} est de nouveau disponible chez {{ store.name }}, {{ store.address }}.\n",
        "<p>Bonjour,</p><p>{{ article.designation }}{% if article.variant %} ({{ article.variant }}){% endif %} est de nouveau disponible chez {{ store.name }}, {{ store.address }}.</p>",
    ),
    (
        "restock",
        "en",
        "Back at {{ store.name }}: {{ article.designation }}",
        "Hello,\n\n{{ article.designation }}{% if article.variant %} ({{ article.variant }}){% endif %} is available again at {{ store.name }}, {{ store.address }}.\n",
        "<p>Hello,</p><p>{{ article.designation }}{% if article.variant %} ({{ article.variant }}){% endif %} is available again at {{ store.name }}, {{ store.address }}.</p>",
    ),
    // 1. Validate your request (anonymous shoppers).
    (
        "validate_request",
        "fr",
        "Confirmez votre réservation {{ reservation.number }}",
        "Bonjour {{ shopper.first_name }},\n\nConfirmez votre demande de réservation chez {{ store.name }} :\n[[LINES]]\nConfirmer : {{ links.validation }}\n\nSans confirmation avant le {{ reservation.validate_by }}, la demande est annulée.\n",
        "<p>Bonjour {{ shopper.first_name }},</p><p>Confirmez votre demande de réservation chez {{ store.name }} :</p>[[LINES]]<p><a href=\"{{ links.validation }}\">Confirmer ma réservation</a></p><p>Sans confirmation avant le {{ reservation.validate_by }}, la demande est annulée.</p>",
    ),
    (
        "validate_request",
        "en",
        "Confirm your reservation {{ reservation.number }}",
        "Hello {{ shopper.first_name }},\n\nPlease confirm your reservation request at {{ store.name }}:\n[[LINES]]\nConfirm: {{ links.validation }}\n\nWithout confirmation by {{ reservation.validate_by }}, the request is cancelled.\n",
        "<p>Hello {{ shopper.first_name }},</p><p>Please confirm your reservation request at {{ store.name }}:</p>[[LINES]]<p><a href=\"{{ links.validation }}\">Confirm my reservation</a></p><p>Without confirmation by {{ reservation.validate_by }}, the request is cancelled.</p>",
    ),
    // 2. Request received.
    (
        "request_received",
        "fr",
        "Réservation {{ reservation.number }} reçue",
        "Bonjour {{ shopper.first_name }},\n\nVotre demande est transmise à {{ store.name }}, qui vous répond avant le {{ reservation.confirm_by }}.\n[[LINES]]\nSuivre : {{ links.tracking }}\n",
        "<p>Bonjour {{ shopper.first_name }},</p><p>Votre demande est transmise à {{ store.name }}, qui vous répond avant le {{ reservation.confirm_by }}.</p>[[LINES]]<p><a href=\"{{ links.tracking }}\">Suivre ma réservation</a></p>",
    ),
    (
        "request_received",
        "en",
        "Reservation {{ reservation.number }} received",
        "Hello {{ shopper.first_name }},\n\nYour request is with {{ store.name }}, who will answer by {{ reservation.confirm_by }}.\n[[LINES]]\nFollow it: {{ links.tracking }}\n",
        "<p>Hello {{ shopper.first_name }},</p><p>Your request is with {{ store.name }}, who will answer by {{ reservation.confirm_by }}.</p>[[LINES]]<p><a href=\"{{ links.tracking }}\">Follow my reservation</a></p>",
    ),
    // 3. Ready.
    (
        "ready",
        "fr",
        "Votre article vous attend : réservation {{ reservation.number }}",
        "Bonjour {{ shopper.first_name }},\n\nC'est prêt ! {{ store.name }} a mis de côté :\n[[LINES]]\nNuméro à donner en caisse : {{ reservation.number }}\nÀ retirer avant le {{ reservation.pickup_by }}, {{ store.address }}.\nSuivre ou annuler : {{ links.tracking }}\n",
        "<p>Bonjour {{ shopper.first_name }},</p><p>C'est prêt ! {{ store.name }} a mis de côté :</p>[[LINES]]<p>Numéro à donner en caisse : <strong>{{ reservation.number }}</strong></p><p><img src=\"{{ reservation.qr_image }}\" alt=\"QR {{ reservation.number }}\" width=\"200\" height=\"200\"></p><p>À retirer avant le {{ reservation.pickup_by }}, {{ store.address }}.</p><p><a href=\"{{ links.tracking }}\">Suivre ou annuler</a></p>",
    ),
    (
        "ready",
        "en",
        "Your article is waiting: reservation {{ reservation.number }}",
        "Hello {{ shopper.first_name }},\n\nIt is ready! {{ store.name }} has set aside:\n[[LINES]]\nNumber to give at the till: {{ reservation.number }}\nCollect before {{ reservation.pickup_by }}, {{ store.address }}.\nFollow or cancel: {{ links.tracking }}\n",
        "<p>Hello {{ shopper.first_name }},</p><p>It is ready! {{ store.name }} has set aside:</p>[[LINES]]<p>Number to give at the till: <strong>{{ reservation.number }}</strong></p><p><img src=\"{{ reservation.qr_image }}\" alt=\"QR {{ reservation.number }}\" width=\"200\" height=\"200\"></p><p>Collect before {{ reservation.pickup_by }}, {{ store.address }}.</p><p><a href=\"{{ links.tracking }}\">Follow or cancel</a></p>",
    ),
    // 4. Rejected.
    (
        "rejected",
        "fr",
        "Réservation {{ reservation.number }} non disponible",
        "Bonjour {{ shopper.first_name }},\n\nDésolés : {{ store.name }} ne peut pas honorer votre réservation.\n{% if reservation.reason %}Motif : {{ reservation.reason }}\n{% endif %}[[LINES]]",
        "<p>Bonjour {{ shopper.first_name }},</p><p>Désolés : {{ store.name }} ne peut pas honorer votre réservation.</p>{% if reservation.reason %}<p>Motif : {{ reservation.reason }}</p>{% endif %}[[LINES]]",
    ),
    (
        "rejected",
        "en",
        "Reservation {{ reservation.number }} unavailable",
        "Hello {{ shopper.first_name }},\n\nSorry: {{ store.name }} cannot honour your reservation.\n{% if reservation.reason %}Reason: {{ reservation.reason }}\n{% endif %}[[LINES]]",
        "<p>Hello {{ shopper.first_name }},</p><p>Sorry: {{ store.name }} cannot honour your reservation.</p>{% if reservation.reason %}<p>Reason: {{ reservation.reason }}</p>{% endif %}[[LINES]]",
    ),
    // 5. Cancelled.
    (
        "cancelled",
        "fr",
        "Réservation {{ reservation.number }} annulée",
        "Bonjour {{ shopper.first_name }},\n\nVotre réservation chez {{ store.name }} est annulée.\n[[LINES]]",
        "<p>Bonjour {{ shopper.first_name }},</p><p>Votre réservation chez {{ store.name }} est annulée.</p>[[LINES]]",
    ),
    (
        "cancelled",
        "en",
        "Reservation {{ reservation.number }} cancelled",
        "Hello {{ shopper.first_name }},\n\nYour reservation at {{ store.name }} is cancelled.\n[[LINES]]",
        "<p>Hello {{ shopper.first_name }},</p><p>Your reservation at {{ store.name }} is cancelled.</p>[[LINES]]",
    ),
    // 6. Reminder before the pickup deadline; expired.
    (
        "pickup_reminder",
        "fr",
        "Plus que peu de temps pour retirer {{ reservation.number }}",
        "Bonjour {{ shopper.first_name }},\n\nVotre article vous attend chez {{ store.name }} jusqu'au {{ reservation.pickup_by }}.\n[[LINES]]",
        "<p>Bonjour {{ shopper.first_name }},</p><p>Votre article vous attend chez {{ store.name }} jusqu'au {{ reservation.pickup_by }}.</p>[[LINES]]",
    ),
    (
        "pickup_reminder",
        "en",
        "Not long left to collect {{ reservation.number }}",
        "Hello {{ shopper.first_name }},\n\nYour article waits for you at {{ store.name }} until {{ reservation.pickup_by }}.\n[[LINES]]",
        "<p>Hello {{ shopper.first_name }},</p><p>Your article waits for you at {{ store.name }} until {{ reservation.pickup_by }}.</p>[[LINES]]",
    ),
    (
        "expired",
        "fr",
        "Réservation {{ reservation.number }} expirée",
        "Bonjour {{ shopper.first_name }},\n\nVotre réservation chez {{ store.name }} a expiré et l'article a été remis en vente.\n[[LINES]]",
        "<p>Bonjour {{ shopper.first_name }},</p><p>Votre réservation chez {{ store.name }} a expiré et l'article a été remis en vente.</p>[[LINES]]",
    ),
    (
        "expired",
        "en",
        "Reservation {{ reservation.number }} expired",
        "Hello {{ shopper.first_name }},\n\nYour reservation at {{ store.name }} expired and the article is back on sale.\n[[LINES]]",
        "<p>Hello {{ shopper.first_name }},</p><p>Your reservation at {{ store.name }} expired and the article is back on sale.</p>[[LINES]]",
    ),
    // Store messages.
    (
        "to_handle",
        "fr",
        "À traiter : réservation {{ reservation.number }} ({{ shopper.first_name }})",
        "Nouvelle réservation {{ reservation.number }} pour {{ shopper.first_name }}, à traiter avant le {{ reservation.confirm_by }} :\n[[LINES]]\nBon de préparation : {{ links.slip }}\n{% if links.set_aside %}Mettre de côté : {{ links.set_aside }}\nRefuser : {{ links.reject }}\n{% endif %}Ouvrir : {{ links.app }}\n",
        "<p>Nouvelle réservation <strong>{{ reservation.number }}</strong> pour {{ shopper.first_name }}, à traiter avant le {{ reservation.confirm_by }} :</p>[[LINES]]<p><a href=\"{{ links.slip }}\">Imprimer le bon de préparation</a></p>{% if links.set_aside %}<p><a href=\"{{ links.set_aside }}\">Mettre de côté</a> · <a href=\"{{ links.reject }}\">Refuser</a></p>{% endif %}<p><a href=\"{{ links.app }}\">Ouvrir dans l'application</a></p>",
    ),
    (
        "to_handle",
        "en",
        "To handle: reservation {{ reservation.number }} ({{ shopper.first_name }})",
        "New reservation {{ reservation.number }} for {{ shopper.first_name }}, to handle by {{ reservation.confirm_by }}:\n[[LINES]]\nPreparation slip: {{ links.slip }}\n{% if links.set_aside %}Set aside: {{ links.set_aside }}\nReject: {{ links.reject }}\n{% endif %}Open: {{ links.app }}\n",
        "<p>New reservation <strong>{{ reservation.number }}</strong> for {{ shopper.first_name }}, to handle by {{ reservation.confirm_by }}:</p>[[LINES]]<p><a href=\"{{ links.slip }}\">Print the preparation slip</a></p>{% if links.set_aside %}<p><a href=\"{{ links.set_aside }}\">Set aside</a> · <a href=\"{{ links.reject }}\">Reject</a></p>{% endif %}<p><a href=\"{{ links.app }}\">Open in the app</a></p>",
    ),
    (
        "reminder",
        "fr",
        "Rappel : réservation {{ reservation.number }} toujours à traiter",
        "La réservation {{ reservation.number }} attend toujours (rappel n°{{ alert.count }}).\n[[LINES]]\n{% if links.set_aside %}Mettre de côté : {{ links.set_aside }}\nRefuser : {{ links.reject }}\n{% endif %}Ouvrir : {{ links.app }}\n",
        "<p>La réservation <strong>{{ reservation.number }}</strong> attend toujours (rappel n°{{ alert.count }}).</p>[[LINES]]{% if links.set_aside %}<p><a href=\"{{ links.set_aside }}\">Mettre de côté</a> · <a href=\"{{ links.reject }}\">Refuser</a></p>{% endif %}<p><a href=\"{{ links.app }}\">Ouvrir</a></p>",
    ),
    (
        "reminder",
        "en",
        "Reminder: reservation {{ reservation.number }} still to handle",
        "Reservation {{ reservation.number }} is still waiting (reminder {{ alert.count }}).\n[[LINES]]\n{% if links.set_aside %}Set aside: {{ links.set_aside }}\nReject: {{ links.reject }}\n{% endif %}Open: {{ links.app }}\n",
        "<p>Reservation <strong>{{ reservation.number }}</strong> is still waiting (reminder {{ alert.count }}).</p>[[LINES]]{% if links.set_aside %}<p><a href=\"{{ links.set_aside }}\">Set aside</a> · <a href=\"{{ links.reject }}\">Reject</a></p>{% endif %}<p><a href=\"{{ links.app }}\">Open</a></p>",
    ),
    (
        "overdue",
        "fr",
        "En retard : réservation {{ reservation.number }} chez {{ store.name }}",
        "Le délai de confirmation de {{ reservation.number }} est dépassé ({{ reservation.confirm_by }}).\n[[LINES]]\n{% if links.set_aside %}Mettre de côté : {{ links.set_aside }}\nRefuser : {{ links.reject }}\n{% endif %}Ouvrir : {{ links.app }}\n",
        "<p>Le délai de confirmation de <strong>{{ reservation.number }}</strong> est dépassé ({{ reservation.confirm_by }}).</p>[[LINES]]{% if links.set_aside %}<p><a href=\"{{ links.set_aside }}\">Mettre de côté</a> · <a href=\"{{ links.reject }}\">Refuser</a></p>{% endif %}<p><a href=\"{{ links.app }}\">Ouvrir</a></p>",
    ),
    (
        "overdue",
        "en",
        "Overdue: reservation {{ reservation.number }} at {{ store.name }}",
        "The confirmation deadline of {{ reservation.number }} has passed ({{ reservation.confirm_by }}).\n[[LINES]]\n{% if links.set_aside %}Set aside: {{ links.set_aside }}\nReject: {{ links.reject }}\n{% endif %}Open: {{ links.app }}\n",
        "<p>The confirmation deadline of <strong>{{ reservation.number }}</strong> has passed ({{ reservation.confirm_by }}).</p>[[LINES]]{% if links.set_aside %}<p><a href=\"{{ links.set_aside }}\">Set aside</a> · <a href=\"{{ links.reject }}\">Reject</a></p>{% endif %}<p><a href=\"{{ links.app }}\">Open</a></p>",
    ),
    (
        "shopper_cancelled",
        "fr",
        "Annulée par le client : réservation {{ reservation.number }}",
        "{{ shopper.first_name }} a annulé la réservation {{ reservation.number }}.\n[[LINES]]",
        "<p>{{ shopper.first_name }} a annulé la réservation <strong>{{ reservation.number }}</strong>.</p>[[LINES]]",
    ),
    (
        "shopper_cancelled",
        "en",
        "Cancelled by the shopper: reservation {{ reservation.number }}",
        "{{ shopper.first_name }} cancelled reservation {{ reservation.number }}.\n[[LINES]]",
        "<p>{{ shopper.first_name }} cancelled reservation <strong>{{ reservation.number }}</strong>.</p>[[LINES]]",
    ),
    (
        "put_back",
        "fr",
        "À remettre en rayon : réservation {{ reservation.number }}",
        "La réservation {{ reservation.number }} n'a pas été retirée : remettez les articles en rayon.\n[[LINES]]",
        "<p>La réservation <strong>{{ reservation.number }}</strong> n'a pas été retirée : remettez les articles en rayon.</p>[[LINES]]",
    ),
    (
        "put_back",
        "en",
        "Put back on the shelf: reservation {{ reservation.number }}",
        "Reservation {{ reservation.number }} was not collected: put the articles back on the shelf.\n[[LINES]]",
        "<p>Reservation <strong>{{ reservation.number }}</strong> was not collected: put the articles back on the shelf.</p>[[LINES]]",
    ),
    (
        "auto_cancelled",
        "fr",
        "Annulée faute de stock : réservation {{ reservation.number }}",
        "La réservation {{ reservation.number }} a été annulée : le stock n'est plus là.\n[[LINES]]",
        "<p>La réservation <strong>{{ reservation.number }}</strong> a été annulée : le stock n'est plus là.</p>[[LINES]]",
    ),
    (
        "auto_cancelled",
        "en",
        "Cancelled, out of stock: reservation {{ reservation.number }}",
        "Reservation {{ reservation.number }} was cancelled: the stock is gone.\n[[LINES]]",
        "<p>Reservation <strong>{{ reservation.number }}</strong> was cancelled: the stock is gone.</p>[[LINES]]",
    ),
];
