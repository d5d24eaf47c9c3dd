/*
| Plain-language validation messages for the forms.
*/
import vine, { SimpleMessagesProvider } from '@vinejs/vine'

vine.messagesProvider = new SimpleMessagesProvider(
  {
    'required': 'Please fill in this field.',
    'string': 'Please fill in this field.',
    'email': 'Please enter a valid email address.',
    'email.regex': 'Please use an email address made of plain (ASCII) characters.',
    'email.maxLength': 'This email address is too long.',
    'minLength': 'Must be at least {{ min }} characters.',
    'maxLength': 'Must be at most {{ max }} characters.',
    'confirmed': 'The two passwords do not match.',
  },
  { passwordConfirmation: 'password confirmation' }
)
